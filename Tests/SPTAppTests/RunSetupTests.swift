import Foundation
import Testing
import SPTApp
import SPTCommandLine
import SPTEngine
import SPTRuns
import TestSupport

/// `spt train` and the dashboard set a run up one way: with the same flags they train on the same
/// images, and the header says which.
@Suite struct RunSetupTests {
    func header(_ path: String) throws -> RunHeader {
        guard case .header(let h) = try RunLogReader.read(path).records.first else { throw CocoaError(.fileReadCorruptFile) }
        return h
    }

    /// The header of `spt train` (the real binary) run with `args`.
    func sptTrain(_ args: [String]) throws -> RunHeader {
        let dir = temporaryDirectory()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("spt")
        p.arguments = ["train", "--strategy", "random", "--runs-dir", dir] + args
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let session = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).first)
        return try header("\(dir)/\(session)/random.jsonl")
    }

    /// The header of the dashboard's live run with `args` (its loading and options, in-process).
    func dashboard(_ args: [String]) throws -> RunHeader {
        let run = try RunFlags.parse(args)
        let dir = temporaryDirectory()
        let live = LiveSession(load: {
            let (backbone, source) = try run.load()
            return (backbone, TaskData(source: source, options: run.trainOptions(strategy: .random, backbone: nil)))
        }, options: run.trainOptions, session: "s", runsDir: dir)
        live.start(strategies: [.random])
        let path = RunDirectory.path(root: dir, session: "s", run: "random")
        let end = Date().addingTimeInterval(60)
        while (try? header(path)) == nil && Date() < end { _ = live.poll(0); usleep(20_000) }
        live.close()
        return try header(path)
    }

    @Test func sptTrainAndTheDashboardTrainOnTheSameImages() throws {
        let args = ["--task", "shape", "--seed", "1", "--epochs", "1", "--prompts", "2", "--nmi-every", "0"]
        let initFile = temporaryDirectory() + "/init.safetensors"
        let cli = try sptTrain(args + ["--save-init", initFile]), tui = try dashboard(args)
        let saved = try SafeTensors(path: initFile)
        #expect(saved.entries["prompt_embeddings"]?.shape == [1, 2, 128] && saved.entries["head.weight"] != nil)
        #expect(saved.metadata["train_selection"] == cli.params?["train_selection"])
        #expect(cli.params?["split_seed"] == "0" && tui.params?["split_seed"] == "0")
        #expect(cli.params?["train_selection"] != nil && cli.params?["train_selection"] == tui.params?["train_selection"])
        #expect(cli.lr == tui.lr && cli.seed == 1 && tui.seed == 1)
        let other = try dashboard(args + ["--split-seed", "1"])
        #expect(other.params?["split_seed"] == "1" && other.params?["train_selection"] != cli.params?["train_selection"])
    }
}
