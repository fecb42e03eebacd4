import Foundation
import Testing
import SPTRuns

/// The binaries run as a user runs them, on malformed files, faults and odd arguments: each must
/// end with a clear error that names the file or flag — never a crash, a hang or lost data.
@Suite struct HostileInputTests {
    struct Outcome: CustomStringConvertible {
        let status: Int32, signaled: Bool, timedOut: Bool, output: String
        var description: String { "status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""): \(output)" }
    }

    /// Runs `spt` with a time limit (a hang is a failure, not a stuck suite).
    static func spt(_ args: [String], timeout: Double = 60, cwd: String? = nil) throws -> Outcome {
        let p = Process()
        let log = NSTemporaryDirectory() + "spt-out-\(UInt32.random(in: 0..<UInt32.max))"
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let out = try #require(FileHandle(forWritingAtPath: log))
        p.executableURL = URL(fileURLWithPath: EndToEndTests.binary("spt"))
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        p.standardOutput = out; p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let end = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < end { usleep(20_000) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try out.close()
        return Outcome(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal && !timedOut, timedOut: timedOut,
                       output: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Expects a clean failure (exit status 1-ish, no signal, no hang) whose message has `text`.
    static func expectRefusal(_ args: [String], _ text: String, cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let o = try spt(args, cwd: cwd)
        #expect(!o.signaled && !o.timedOut && o.status != 0, "\(args): \(o)", sourceLocation: sourceLocation)
        #expect(o.output.contains(text), "\(args): expected “\(text)” in \(o)", sourceLocation: sourceLocation)
    }

    static var canMountTmpfs: Bool {
        guard getuid() == 0 else { return false }
        let d = NSTemporaryDirectory() + "spt-mount-probe-\(UInt32.random(in: 0..<UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        guard mountTmpfs(d, bytes: 4096) else { return false }
        umount(d)
        return true
    }

    static func mountTmpfs(_ dir: String, bytes: Int) -> Bool { mount("tmpfs", dir, "tmpfs", 0, "size=\(bytes)") == 0 }

    /// A full disk under the runs directory: `spt train` stops with the reason and exits non-zero.
    @Test(.enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"))
    func diskFullStopsTrainingWithTheReason() throws {
        let e2e = EndToEndTests(), dir = e2e.tempDir()
        try e2e.makeTinyTask(at: dir + "/task")
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        #expect(Self.mountTmpfs(dir + "/runs", bytes: 4096))
        defer { umount(dir + "/runs") }
        let o = try Self.spt(["train", "--task", dir + "/task", "--backbone", "random-tiny", "--epochs", "3", "--batch", "4",
                              "--threads", "1", "--runs-dir", dir + "/runs"])
        #expect(o.status != 0 && !o.signaled, "\(o)")
        #expect(o.output.contains("kmeans.jsonl: write failed: No space left on device"), "\(o)")
    }

    @Test func runsDirectoryThatCannotBeCreated() throws {
        let dir = EndToEndTests().tempDir()
        FileManager.default.createFile(atPath: dir + "/file", contents: Data())
        try Self.expectRefusal(["train", "--task", "shape", "--backbone", "random-tiny", "--runs-dir", dir + "/file/runs"],
                               "\(dir)/file: cannot create directory")
    }

    /// Flags outside their range are refused by name before anything is loaded or allocated.
    @Test(arguments: [
        (["train", "--prompts", "1600", "--strategy", "mean-pool"], "--prompts 1600: must be in 0...1024"),
        (["train", "--prompts=-3"], "--prompts -3: must be in 0...1024"),
        (["train", "--kmeans-images", "0"], "--kmeans-images 0: must be at least 1"),
        (["train", "--kmeans-images=-5"], "--kmeans-images -5: must be at least 1"),
        (["train", "--kmeans-images", "1", "--prompts", "100", "--backbone", "random-tiny", "--task", "shape"],
         "--prompts 100: kmeans draws prompts from 49 tokens"),
        (["train", "--lr=-1"], "--lr -1.0: must be a positive number"),
        (["train", "--lr", "nan"], "--lr nan: must be a positive number"),
        (["train", "--threads", "0"], "--threads 0: must be in 1...64"),
        (["train", "--epochs", "0"], "--epochs 0: must be at least 1"),
        (["train", "--batch", "5000", "--backbone", "random-tiny", "--task", "shape"], "--batch 5000: is more than the task's 800 training images"),
        (["compare", "--lr-grid", "0.01", "0", "--tune"], "--lr-grid 0.0: must be a positive number"),
        (["pretrain", "--epochs", "0", "--out", "/tmp/never.safetensors"], "--epochs 0: must be at least 1"),
        (["probe", "--threads", "999"], "--threads 999"),
        (["export", "/nonexistent", "--out", "/tmp/x.csv", "--smoothing", "5"], "--smoothing 5.0: must be in [0, 0.999]"),
        (["export", "/nonexistent", "--out", "/tmp/x.csv", "--smoothing", "nan"], "--smoothing nan"),
        (["bench", "--seconds", "0"], "--seconds 0.0"),
        // Statistics whose normalized pixels overflow the model (NaN features, exit 0, before).
        (["train", "--backbone", "random-tiny", "--task", "shape", "--mean", "3e38", "--std", "1"], "normalizes a pixel value of 0 to"),
        (["embed", "--backbone", "random-tiny", "--task", "shape", "--std", "1e-38", "--out", "/tmp/never.safetensors"], "beyond ±10000"),
    ])
    func flagsOutOfRange(args: [String], message: String) throws {
        try Self.expectRefusal(args, message)
    }

    /// `spt export` refuses what would destroy data, and an input without logs.
    @Test func exportTargetsThatWouldDestroyData() throws {
        let dir = EndToEndTests().tempDir()
        try RunLogWriter(path: dir + "/s/a.jsonl").append(.header(RunHeader(run: "a", session: "s", engine: "t", task: "t", backbone: "b",
                                                                          strategy: "random", deep: false, prompts: 1, optimizer: "sgd", lr: 1,
                                                                          weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        try FileManager.default.createDirectory(atPath: dir + "/keep", withIntermediateDirectories: true)
        try Self.expectRefusal(["export", dir + "/s", "--out", dir + "/keep"], "is a directory")
        try Self.expectRefusal(["export", dir + "/s", "--out", dir + "/s"], "is a directory")
        try Self.expectRefusal(["export", dir + "/s/a.jsonl", "--out", dir + "/s/a.jsonl"], "run log")
        try Self.expectRefusal(["export", dir + "/s", "--out", dir + "/s/x.csv"], "inside the input directory")
        try Self.expectRefusal(["export", dir + "/keep", "--out", dir + "/x.csv"], "no run logs")
        #expect(FileManager.default.fileExists(atPath: dir + "/keep") && FileManager.default.fileExists(atPath: dir + "/s/a.jsonl"))
        let ok = try Self.spt(["export", dir + "/s", "--out", dir + "/x.csv"])
        #expect(ok.status == 0, "\(ok)")
    }
}

/// `spt train` states the peak memory it expects before it starts; the process's measured peak
/// (VmHWM, sampled while it runs) is within 20% of that on two configurations.
@Suite struct MemoryPlanEndToEndTests {
    @Test(arguments: [["--batch", "32"], ["--deep", "--batch", "128"]])
    func estimateMatchesTheMeasuredPeak(args: [String]) throws {
        let dir = EndToEndTests().tempDir()
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: EndToEndTests.binary("spt"))
        p.arguments = ["train", "--task", "shape", "--backbone", "mae-tiny", "--epochs", "1", "--nmi-every", "10", "--runs-dir", dir] + args
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var peak = 0
        while p.isRunning {
            if let s = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
               let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") { peak = max(peak, kb * 1024) }
            usleep(10_000)
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text)")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("memory: about ") })
        let words = line.split(separator: " ")
        let value = try #require(Double(words[2])), unit = words[3]
        let estimate = value * (unit.hasPrefix("GB") ? Double(1 << 30) : Double(1 << 20))
        #expect(abs(estimate - Double(peak)) <= 0.2 * Double(peak), "estimate \(line) vs measured \(peak >> 20) MB")
    }
}
