import Dispatch
import Foundation
import SPTDashboard
import SPTRuns

/// The message loop: keys, ticks and the source's records become messages; `update` changes the
/// state; effects go to the source (engine and replay commands) or are done here (export, quit)
/// and report back as messages; `view` draws a frame when something changed.
public final class App {
    public var state: DashboardState
    public var themes: [Theme] = []
    private let source: RunSource
    private let terminal: TerminalBackend
    private let exportPaths: [String]
    /// Where `e` writes its CSV file.
    private let exportDirectory: String
    private let noColor: Bool
    private var appliedTheme = -1
    private var dirty = true, sinceDraw = 0.0

    public init(state: DashboardState, source: RunSource, terminal: TerminalBackend, exportPaths: [String],
                exportDirectory: String = ".", noColor: Bool = false) {
        self.state = state; self.source = source; self.terminal = terminal; self.exportPaths = exportPaths
        self.exportDirectory = exportDirectory; self.noColor = noColor
    }

    /// Runs until `q` (or Ctrl-C, SIGTERM, SIGHUP, which quit the same way: the terminal is
    /// restored and the logs synced).
    public func run() throws {
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
            source.close()
            sources.forEach { $0.cancel() }
        }
        var last = Date()
        while !stop.isSet {
            let now = Date()
            if !step(now.timeIntervalSince(last)) { return }
            last = now
            usleep(30_000)
        }
    }

    /// One turn of the loop, `dt` seconds after the previous one. Returns false when the user quit.
    public func step(_ dt: Double) -> Bool {
        var messages: [Message] = []
        while let k = terminal.readKey() {
            if k == .resize { terminal.invalidate() }
            messages.append(.key(k))
        }
        messages.append(.tick(dt))
        messages += source.poll(dt)
        // Effects answer with messages, which go through `update` in the same turn.
        while !messages.isEmpty {
            let m = messages.removeFirst()
            if case .tick = m {} else { dirty = true }
            for effect in update(&state, m) {
                switch effect {
                case .quit: return false
                case .export(let smoothing): messages.append(export(smoothing: smoothing))
                case .engine(let c): messages += source.perform(c)
                case .replay(let c): messages += source.perform(c)
                }
            }
        }
        if appliedTheme != state.theme {
            appliedTheme = state.theme
            terminal.setTheme(themes.indices.contains(state.theme) ? themes[state.theme] : .monochrome, noColor: noColor)
            // The image view's pixels need 256 colours; with fewer it draws density characters.
            state.imageColors = !noColor && terminal.colorCount >= 256
            dirty = true
        }
        sinceDraw += dt
        if dirty || sinceDraw >= 0.5 {
            let size = terminal.size
            terminal.draw(view(state, width: size.width, height: size.height))
            dirty = false; sinceDraw = 0
        }
        return true
    }

    private func export(smoothing: Double) -> Message {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        let name = "spt-export-\(f.string(from: Date())).csv"
        let out = exportDirectory == "." ? name : (exportDirectory as NSString).appendingPathComponent(name)
        do {
            let issues = try CSVExport.export(paths: exportPaths, to: out, layout: .tidy, smoothing: smoothing)
            return .status("exported \(out)" + (issues.isEmpty ? "" : " (\(issues.count) unreadable line(s) skipped)"))
        } catch {
            return .status("export failed: \(error)")
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
