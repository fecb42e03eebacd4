import Foundation
import Testing
import SPTApp
import SPTDashboard
import SPTEngine
import SPTRuns
import TestSupport

/// A terminal in memory: scripted keys in, frames out.
final class FakeTerminal: TerminalBackend {
    var keys: [Key] = []
    var frames = 0
    var last: CellBuffer?
    var started = false, stopped = false
    let size: (width: Int, height: Int) = (100, 30)
    func start() throws { started = true }
    func stop() { stopped = true }
    func setTheme(_ theme: Theme, noColor: Bool) {}
    var colorCount: Int { 256 }
    func draw(_ frame: CellBuffer) { frames += 1; last = frame }
    func invalidate() {}
    func readKey() -> Key? { keys.isEmpty ? nil : keys.removeFirst() }
    var screen: String { last?.lines.joined(separator: "\n") ?? "" }
}

/// The dashboard's whole loop in-process — key → update → engine command → training → run log →
/// records → screen — on the shipped `mae-tiny` and the generated `shape` task.
@Suite(.serialized) struct AppLoopTests {
    let runsDir = temporaryDirectory()
    let terminal = FakeTerminal()
    let live: LiveSession
    let app: App

    init() throws {
        live = LiveSession(load: {
            (try Backbone.load("mae-tiny"), TaskData(source: try TaskCatalog.load("shape", imageSize: 28), protocol: .tune))
        }, options: { s, b in
            var o = TrainOptions()
            o.initialization.strategy = s; o.epochs = 3; o.batch = 16; o.nmiEvery = .every(5)
            if let b { Defaults.apply(&o, backbone: b, lr: nil, weightDecay: nil) }
            return o
        }, session: "loop", runsDir: runsDir)
        var state = DashboardState(mode: .live, task: "shape", backbone: "mae-tiny", themes: [], strategies: InitStrategy.allCases.map(\.rawValue))
        state.ascii = true
        app = App(state: state, source: live, terminal: terminal, exportPaths: [live.sessionDirectory], exportDirectory: runsDir)
    }

    /// Steps the loop until `done` holds (at most `seconds`).
    func run(until done: () -> Bool, seconds: Double = 60, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let end = Date().addingTimeInterval(seconds)
        while !done() && Date() < end {
            _ = app.step(0.03)
            usleep(5_000)
        }
        #expect(done(), "timed out waiting for \(what)", sourceLocation: sourceLocation)
    }

    func press(_ k: Key...) { terminal.keys += k; _ = app.step(0.03) }
    func run(_ id: String) -> RunView? { app.state.runs.first { $0.id == id } }
    func events(_ id: String) throws -> [String] {
        try RunLogReader.read(RunDirectory.path(root: runsDir, session: "loop", run: id)).records.compactMap {
            if case .event(let e) = $0 { return e.event }
            if case .segment(let s) = $0 { return "segment:\(s.strategy)" }
            return nil
        }
    }

    @Test func keysDriveTheEngineAndTheScreenShowsIt() throws {
        live.start(strategies: [.random, .kmeans])
        run(until: { app.state.runs.count == 2 && app.state.runs.allSatisfy { $0.step >= 2 } }, "both runs training")
        #expect(terminal.frames > 0 && terminal.screen.contains("random") && terminal.screen.contains("kmeans"))

        // 2 on the focused run (random) re-initializes it with kmeans: a segment in its log.
        press(.char("2"))
        run(until: { run("random")?.segments.last?.strategy == "kmeans" }, "the switch reaching the log and the screen")

        press(.char("p"))
        run(until: { run("random")?.status == .paused }, "pause")
        let pausedAt = run("random")!.step
        run(until: { (run("kmeans")?.step ?? 0) >= pausedAt + 5 }, "the other run to go on")
        #expect(run("random")!.step == pausedAt, "a paused run does not step")
        press(.char("p"))
        run(until: { run("random")?.status == .training }, "resume")

        press(.char("r"))
        run(until: { run("kmeans-2") != nil }, "the restarted run (with its current strategy)")
        press(.char("a"), .char("3"))
        run(until: { run("mean-pool") != nil }, "the added run")

        press(.char("e"))
        #expect(app.state.status.hasPrefix("exported "), "status: \(app.state.status)")
        let exported = try FileManager.default.contentsOfDirectory(atPath: runsDir).filter { $0.hasPrefix("spt-export-") }
        #expect(exported.count == 1)

        press(.char("q"))
        #expect(app.state.confirmQuit && terminal.screen.contains("quit? (y/n)"))
        terminal.keys = [.char("y")]
        #expect(app.step(0.03) == false, "y confirms the quit")
        live.close()
        #expect(try events("random") == ["segment:kmeans", "pause", "resume", "stopped"])
        #expect(try events("kmeans-2").last == "stopped" && events("mean-pool").last == "stopped")
    }

    @Test func aReplayAnswersEngineKeysWithAStatusNotACrash() throws {
        let path = runsDir + "/one.jsonl"
        let w = try RunLogWriter(path: path)
        try w.append(.header(RunHeader(run: "one", session: "s", created: "2026-11-29T00:00:00Z", engine: "t", task: "t", backbone: "b",
                                       strategy: "random", deep: false, prompts: 1, optimizer: "adamw", lr: 1, weightDecay: 0,
                                       epochs: 1, batch: 1, seed: 0, threads: 1)))
        let source = try ReplaySource(path: path, speed: 10)
        #expect(source.perform(.pause(run: "one")).count == 1)
        var state = DashboardState(mode: .replay, task: "", backbone: "", themes: [], strategies: [])
        state.ascii = true
        let replay = App(state: state, source: source, terminal: terminal, exportPaths: source.files, exportDirectory: runsDir)
        terminal.keys = [.char("p"), .char("]"), .char(".")]
        #expect(replay.step(0.1))
        #expect(replay.state.replayPaused && replay.state.replaySpeed == 2)
        terminal.keys = [.char("q")]
        #expect(replay.step(0.1) == false)
    }
}
