import Foundation
import Testing
import SPTRuns
import TestSupport

/// The one output rule (`SafeOutput`), command by command, as a user meets it: every command that
/// writes refuses an empty path (an unset shell variable), one of its inputs and a path inside an
/// input, and a directory output that is not empty — exit status non-zero, the reason named,
/// the input unchanged.
@Suite(.serialized) struct OutputRuleTests {
    /// A session with one run log, a task folder and a backbone file, in a fresh directory.
    struct Fixture {
        let dir: String, session: String, log: String, task: String, backbone: String
        init() throws {
            let e2e = EndToEndTests()
            dir = e2e.tempDir()
            session = dir + "/session"; log = session + "/a.jsonl"; task = dir + "/task"; backbone = dir + "/mae-tiny.safetensors"
            let w = try RunLogWriter(path: log)
            try w.append(.header(RunHeader(run: "a", session: "s", engine: "e", task: "t", backbone: "b", strategy: "random", deep: false,
                                           prompts: 2, optimizer: "adamw", lr: 0.01, weightDecay: 0, epochs: 1, batch: 2, seed: 0, threads: 1)))
            try w.append(.train(TrainRecord(step: 1, epoch: 0.5, time: 1, loss: 1, lr: 0.01, gradNorm: 1, imagesPerSecond: 1)))
            try w.append(.event(EventRecord(step: 1, time: 1, .finished)))
            try e2e.makeTinyTask(at: task)
            try FileManager.default.copyItem(atPath: repositoryRoot + "/Sources/SPTEngine/Backbones/mae-tiny.safetensors", toPath: backbone)
        }

        /// Every input file's bytes, to check that a refusal changed nothing.
        func snapshot() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for root in [session, task] {
                for f in FileManager.default.enumerator(atPath: root)!.compactMap({ $0 as? String }) {
                    var isDir: ObjCBool = false
                    if FileManager.default.fileExists(atPath: root + "/" + f, isDirectory: &isDir), !isDir.boolValue {
                        out[root + "/" + f] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + f))
                    }
                }
            }
            out[backbone] = try Data(contentsOf: URL(fileURLWithPath: backbone))
            return out
        }
    }

    /// Each writing command with its output path put last (`{}` marks it).
    static func commands(_ f: Fixture) -> [(name: String, args: [String])] {
        [("export csv", ["export", f.session, "--out", "{}"]),
         ("export tensorboard", ["export", f.session, "--format", "tensorboard", "--out", "{}"]),
         ("report", ["report", f.session, "--out", "{}"]),
         ("embed", ["embed", "--backbone", f.backbone, "--task", f.task, "--threads", "1", "--out", "{}"]),
         ("train --save-init", ["train", "--backbone", f.backbone, "--task", f.task, "--epochs", "1", "--batch", "4", "--threads", "1",
                                "--runs-dir", f.dir + "/runs", "--save-init", "{}"]),
         ("pretrain", ["pretrain", "--epochs", "1", "--out", "{}"]),
         ("tasks --export", ["tasks", "--export", "shape", "--out", "{}"])]
    }

    func refuse(_ args: [String], out: String, _ text: String, _ f: Fixture) throws {
        let before = try f.snapshot()
        try HostileInputTests.expectRefusal(args.map { $0 == "{}" ? out : $0 }, text)
        #expect(try f.snapshot() == before, "\(args): an input changed")
    }

    @Test func everyWritingCommandRefusesAnEmptyPath() throws {
        let f = try Fixture()
        for c in Self.commands(f) { try refuse(c.args, out: "", "the path is empty", f) }
        #expect(!FileManager.default.fileExists(atPath: "/train800.txt"))
    }

    @Test func everyWritingCommandRefusesAnInputAndAPathInsideOne() throws {
        let f = try Fixture()
        for c in Self.commands(f) {
            // What each reads: the session (export, report) or the task and backbone (embed, train).
            let reads = c.name.hasPrefix("export") || c.name == "report"
            let input = reads ? f.log : f.backbone, inside = reads ? f.session + "/new" : f.task + "/new"
            guard c.name != "pretrain" && c.name != "tasks --export" else { continue }  // they read no user file
            try refuse(c.args, out: input, "refusing to write here", f)
            try refuse(c.args, out: inside, "inside the input directory", f)
        }
        // A task image named as the embedding's output.
        let image = try #require(FileManager.default.enumerator(atPath: f.task)?.compactMap { $0 as? String }.first { $0.contains("images") })
        try refuse(Self.commands(f)[3].args, out: f.task + "/" + image, "refusing to write here", f)
    }

    @Test func directoryOutputsMustBeNewOrEmpty() throws {
        let f = try Fixture()
        let full = f.dir + "/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full + "/keep.txt", contents: Data("x".utf8))
        for c in Self.commands(f) where ["export tensorboard", "report", "tasks --export"].contains(c.name) {
            try refuse(c.args, out: full, "not empty", f)
        }
        #expect(try String(contentsOfFile: full + "/keep.txt", encoding: .utf8) == "x")
        // Into an empty directory it works, and leaves no staging directory behind.
        let empty = f.dir + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let o = try HostileInputTests.spt(["report", f.session, "--out", empty])
        #expect(o.status == 0, "\(o)")
        #expect(FileManager.default.fileExists(atPath: empty + "/report.md"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir).filter { $0.contains(".partial-") }.isEmpty)
    }

    /// SIGKILL while a report is being written: the target never holds a partial report (it
    /// appears whole or not at all), and the next report to it clears the staging left behind.
    @Test func aKilledDirectoryExportLeavesNothingHalfWritten() throws {
        let f = try Fixture()
        let out = f.dir + "/report"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: EndToEndTests.binary("spt"))
        p.arguments = ["report", f.session, "--out", out]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill it as soon as its staging directory exists (or when it is done: then it is whole).
        let end = Date().addingTimeInterval(20)
        while p.isRunning && Date() < end {
            if (try? FileManager.default.contentsOfDirectory(atPath: f.dir))?.contains(where: { $0.hasPrefix(".report.partial-") }) == true { break }
            usleep(200)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        if FileManager.default.fileExists(atPath: out) {
            #expect(FileManager.default.fileExists(atPath: out + "/report.md"), "a report directory without its report")
        }
        try? FileManager.default.removeItem(atPath: out)
        let o = try HostileInputTests.spt(["report", f.session, "--out", out])
        #expect(o.status == 0, "\(o)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir).filter { $0.contains(".partial-") }.isEmpty)
    }
}

/// Only regular files are read as logs: a FIFO named like a run log (or a TensorBoard event file)
/// is passed over in a directory and refused by name when given, never opened for a blocking read.
@Suite struct RegularFileTests {
    @Test func aFIFONamedLikeALogNeverHangsAReader() throws {
        let f = try OutputRuleTests.Fixture()
        #expect(mkfifo(f.session + "/fifo.jsonl", 0o644) == 0)
        #expect(mkfifo(f.session + "/events.out.tfevents.1.fifo", 0o644) == 0)
        let csv = try HostileInputTests.spt(["export", f.session, "--out", f.dir + "/out.csv"], timeout: 20)
        #expect(csv.status == 0 && !csv.timedOut, "\(csv)")
        let report = try HostileInputTests.spt(["report", f.session, "--out", f.dir + "/report"], timeout: 20)
        #expect(report.status == 0 && !report.timedOut, "\(report)")
        try HostileInputTests.expectRefusal(["export", f.session + "/fifo.jsonl", "--out", f.dir + "/fifo.csv"], "is a FIFO, not a regular file")
        // A FIFO as the output: refused, not replaced or opened.
        #expect(mkfifo(f.dir + "/out.fifo", 0o644) == 0)
        try HostileInputTests.expectRefusal(["export", f.session, "--out", f.dir + "/out.fifo"], "it is a FIFO")
    }

    /// A loop of symbolic links is named as one, not as a missing file.
    @Test func aSymlinkLoopIsNamed() throws {
        let d = EndToEndTests().tempDir()
        try FileManager.default.createSymbolicLink(atPath: d + "/a", withDestinationPath: d + "/b")
        try FileManager.default.createSymbolicLink(atPath: d + "/b", withDestinationPath: d + "/a")
        try HostileInputTests.expectRefusal(["export", d + "/a", "--out", d + "/x.csv"], "a loop of symbolic links")
        try HostileInputTests.expectRefusal(["info", d + "/a"], "a loop of symbolic links")
    }
}
