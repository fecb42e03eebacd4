import Foundation
import Testing
import SPTApp
import SPTDashboard
import SPTRuns
import TestSupport

/// Run keys on a watched run: the dashboard's code path writes the command beside the log, and
/// the Python side (`spt_torch.control`, what a PyTorch trainer polls) reads exactly that.
@Suite struct ControlChannelTests {
    @Test func watchedRunKeysBecomeControlLinesAndTheChannelIsNotARun() throws {
        let dir = temporaryDirectory()
        let w = try RunLogWriter(path: dir + "/kmeans.jsonl")
        try w.append(.header(RunHeader(run: "kmeans", session: "s", engine: "spt_torch", task: "t", backbone: "b", strategy: "kmeans",
                                       deep: false, prompts: 2, optimizer: "adamw", lr: 1, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        let source = WatchSource(directory: dir)
        var state = DashboardState(mode: .watch, task: "", backbone: "", themes: [], strategies: ["random", "kmeans"])
        for m in source.poll(1) { _ = update(&state, m) }
        #expect(state.runs.map(\.id) == ["kmeans"])
        // The keys a person presses: 1 (random), p (pause), r (restart).
        for key in ["1", "p", "r"] {
            for effect in update(&state, .key(.char(Character(key)))) {
                guard case .engine(let c) = effect else { Issue.record("\(key): \(effect)"); continue }
                _ = source.perform(c)
            }
        }
        let lines = try String(contentsOfFile: dir + "/kmeans.control.jsonl", encoding: .utf8)
        #expect(lines == "{\"command\":\"switch\",\"strategy\":\"random\"}\n{\"command\":\"pause\"}\n{\"command\":\"restart\"}\n")
        _ = source.poll(1)
        #expect(try RunDirectory.logFiles(at: dir) == [dir + "/kmeans.jsonl"], "the channel is not listed as a run")

        guard onPath("python3") else { return }
        let read = try runPython("import sys, json; from spt_torch.control import ControlChannel; print(json.dumps(ControlChannel(sys.argv[1]).poll()))",
                                 [dir + "/kmeans.jsonl"]).output
        #expect(read.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"[{"command": "switch", "strategy": "random"}, {"command": "pause"}, {"command": "restart"}]"#)
    }

    /// A watched log that stops growing without an end event (its writer killed: SIGKILL, a lost
    /// node) is marked stale, not running forever; records arriving again make it follow again;
    /// a run that ended is never stale.
    @Test func aQuietLogWithoutAnEndIsStale() throws {
        let dir = temporaryDirectory()
        func log(_ name: String) throws -> RunLogWriter {
            let w = try RunLogWriter(path: dir + "/\(name).jsonl")
            try w.append(.header(RunHeader(run: name, session: "s", engine: "spt_torch", task: "t", backbone: "b", strategy: "kmeans",
                                           deep: false, prompts: 2, optimizer: "adamw", lr: 1, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
            return w
        }
        let killed = try log("killed"), done = try log("done")
        try done.append(.event(EventRecord(step: 0, time: 0, .finished)))
        let source = WatchSource(directory: dir, staleAfter: 5)
        var state = DashboardState(mode: .watch, task: "", backbone: "", themes: [], strategies: ["kmeans"])
        func poll(_ dt: Double) { for m in source.poll(dt) { _ = update(&state, m) } }
        func status(_ id: String) -> RunView.Status? { state.runs.first { $0.id == id }?.status }
        poll(1)
        #expect(status("killed") == .following && status("done") == .finished)
        for _ in 0..<6 { poll(1) }
        #expect(status("killed") == .stale && status("done") == .finished)
        #expect(state.runs.first { $0.id == "killed" }?.message?.contains("no end event") == true)
        try killed.append(.train(TrainRecord(step: 1, epoch: 0, time: 1, loss: 1, lr: 1, gradNorm: 1, imagesPerSecond: 1)))
        poll(1)
        #expect(status("killed") == .following)
    }

    /// A FIFO or a symlink where the control file goes: the command is refused with the reason,
    /// without blocking the dashboard and without writing through the link.
    @Test func aControlFileThatIsNotARegularFileIsRefused() throws {
        let dir = temporaryDirectory()
        let w = try RunLogWriter(path: dir + "/r.jsonl")
        try w.append(.header(RunHeader(run: "r", session: "s", engine: "spt_torch", task: "t", backbone: "b", strategy: "kmeans",
                                       deep: false, prompts: 2, optimizer: "adamw", lr: 1, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        #expect(mkfifo(dir + "/r.control.jsonl", 0o644) == 0)
        #expect(throws: RunLogError.self) { try ControlChannel.send(.pause, toLog: dir + "/r.jsonl") }
        try FileManager.default.removeItem(atPath: dir + "/r.control.jsonl")
        FileManager.default.createFile(atPath: dir + "/target", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: dir + "/r.control.jsonl", withDestinationPath: dir + "/target")
        #expect(throws: RunLogError.self) { try ControlChannel.send(.pause, toLog: dir + "/r.jsonl") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/target")).isEmpty)
    }
}
