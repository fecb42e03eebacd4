import Dispatch
import Foundation
import SPTDashboard
import SPTRuns
import SPTTerminal

/// The message loop: keys, ticks and training or replay records become messages; `update`
/// changes the state; `view` draws a frame; the terminal writes only what changed.
final class App {
    var state: DashboardState
    var themes: [Theme] = []
    var live: LiveSession?
    var replay: ReplaySource?
    var watch: WatchSource?
    private let exportPaths: [String]
    private let terminal = Terminal()
    private var appliedTheme = -1

    init(mode: DashboardState.Mode, task: String, backbone: String, exportPaths: [String]) {
        state = DashboardState(mode: mode, task: task, backbone: backbone, themes: [], strategies: [])
        self.exportPaths = exportPaths
    }

    func run() throws {
        // Ctrl-C and SIGTERM end the loop like `q`, so the terminal is restored and logs synced.
        let stop = StopFlag()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { stop.set() }
            s.resume()
            sources.append(s)
        }
        try terminal.start()
        defer {
            terminal.stop()
            if let live {
                // A ViT-B step takes seconds: say why the prompt is not back yet.
                FileHandle.standardError.write(Data("spt-tui: finishing the current training step and closing the logs…\n".utf8))
                live.stop()
            }
            sources.forEach { $0.cancel() }
        }
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        var last = Date()
        var replayCommands: [ReplayCommand] = []
        var dirty = true, sinceDraw = 0.0
        while !stop.isSet {
            var messages: [Message] = []
            while let k = terminal.readKey() {
                if k == .resize { terminal.invalidate() }
                messages.append(.key(k))
            }
            let now = Date(), dt = now.timeIntervalSince(last)
            last = now
            messages.append(.tick(dt))
            if let live { messages += live.outbox.drain() }
            if let replay { messages += replay.advance(dt, commands: replayCommands); replayCommands = [] }
            if let watch { messages += watch.poll(dt) }
            for m in messages {
                if case .tick = m {} else { dirty = true }
                for effect in update(&state, m) {
                    switch effect {
                    case .quit: return
                    case .export(let smoothing): export(smoothing: smoothing)
                    case .replay(let c): replayCommands.append(c)
                    default: live?.send(effect)
                    }
                }
            }
            if appliedTheme != state.theme {
                appliedTheme = state.theme
                terminal.setTheme(themes.indices.contains(state.theme) ? themes[state.theme] : .monochrome, noColor: noColor)
                dirty = true
            }
            sinceDraw += dt
            if dirty || sinceDraw >= 0.5 {
                let size = terminal.size
                terminal.draw(view(state, width: size.width, height: size.height))
                dirty = false; sinceDraw = 0
            }
            usleep(30_000)
        }
    }

    private func export(smoothing: Double) {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        let out = "spt-export-\(f.string(from: Date())).csv"
        do {
            let issues = try CSVExport.export(paths: exportPaths, to: out, layout: .tidy, smoothing: smoothing)
            state.status = "exported \(out)" + (issues.isEmpty ? "" : " (\(issues.count) unreadable line(s) skipped)")
        } catch {
            state.status = "export failed: \(error)"
        }
    }
}

/// Set from a signal handler's queue, read by the loop.
final class StopFlag: @unchecked Sendable {
    private var flag = false
    private let lock = NSLock()
    func set() { lock.lock(); flag = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
