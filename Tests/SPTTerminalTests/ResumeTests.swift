import Foundation
import Testing
import TestSupport
import SPTRuns

/// A killed or preempted `spt train` resumes: SIGKILL or SIGTERM at a random step, the same
/// command again, and the run's log holds the losses, evaluations and NMI of an uninterrupted run,
/// bit for bit, each step once, with one `restored` event per resumption.
@Suite(.serialized) struct ResumeTests {
    static let flags = ["train", "--task", "shape", "--backbone", "random-tiny", "--strategy", "random", "--epochs", "1",
                        "--threads", "1", "--nmi-every", "4", "--checkpoint-every", "3"]

    /// The records that must not differ between runs (times, dates and throughput do).
    static func stable(_ path: String) throws -> [String] {
        try RunLogReader.read(path).records.compactMap { r -> String? in
            switch r {
            case .train(let t): "train \(t.step) \(t.loss) \(t.lr ?? .nan) \(t.gradNorm ?? .nan)"
            case .eval(let e): "eval \(e.step) \(e.split) \(e.accuracy) \(e.loss ?? .nan)"
            case .nmi(let n): "nmi \(n.step) \(n.values)"
            case .attention(let a): "attention \(a.step) \(a.patches)"
            default: nil
            }
        }
    }

    /// Starts the run, and once its log holds `steps` train records sends `signal`; returns the exit status.
    static func interrupt(_ runs: String, session: String, after steps: Int, with signal: Int32) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: EndToEndTests.binary("spt"))
        p.arguments = flags + ["--runs-dir", runs, "--session", session]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        let log = "\(runs)/\(session)/random.jsonl", end = Date().addingTimeInterval(240)
        while p.isRunning && Date() < end {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.components(separatedBy: "\"kind\":\"train\"").count - 1 >= steps { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func killedAndPreemptedRunsResumeBitForBit() throws {
        let runs = temporaryDirectory() + "/runs"
        let whole = try HostileInputTests.spt(Self.flags + ["--runs-dir", runs, "--session", "whole"], timeout: 240)
        #expect(whole.status == 0, "\(whole)")
        let expected = try Self.stable("\(runs)/whole/random.jsonl")
        #expect(expected.filter { $0.hasPrefix("train") }.count == 25)
        for (session, sig) in [("killed", SIGKILL), ("preempted", SIGTERM)] {
            let at = Int.random(in: 4...21)
            let status = try Self.interrupt(runs, session: session, after: at, with: sig)
            if sig == SIGTERM { #expect(status == 128 + SIGTERM, "\(session) at step \(at): exit \(status)") }
            #expect(FileManager.default.fileExists(atPath: "\(runs)/\(session)/random.checkpoint.safetensors"), "\(session) at step \(at)")
            let again = try HostileInputTests.spt(Self.flags + ["--runs-dir", runs, "--session", session], timeout: 240)
            #expect(again.status == 0 && again.output.contains("resuming"), "\(session): \(again)")
            let log = "\(runs)/\(session)/random.jsonl"
            #expect(try Self.stable(log) == expected, "\(session) at step \(at): the resumed run differs from the whole one")
            let events = try RunLogReader.read(log).records.compactMap { r -> String? in if case .event(let e) = r { e.event } else { nil } }
            #expect(events == ["restored", "finished"], "\(session) at step \(at): \(events)")
            #expect(!FileManager.default.fileExists(atPath: "\(runs)/\(session)/random.checkpoint.safetensors"), "a finished run keeps no checkpoint")
        }
    }

    @Test func aRunWithoutCheckpointIsNotOverwrittenAndResumeNeedsOne() throws {
        let runs = temporaryDirectory() + "/runs"
        try FileManager.default.createDirectory(atPath: runs + "/s", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: runs + "/s/random.jsonl", contents: Data("{}\n".utf8))
        try HostileInputTests.expectRefusal(Self.flags + ["--runs-dir", runs, "--session", "s"], "has no checkpoint to resume")
        try HostileInputTests.expectRefusal(Self.flags + ["--runs-dir", runs, "--session", "t", "--resume"], "does not exist")
        // A checkpoint written with other options is refused by name, and the log is left as it was.
        FileManager.default.createFile(atPath: runs + "/s/random.checkpoint.safetensors", contents: Data("not safetensors".utf8))
        try HostileInputTests.expectRefusal(Self.flags + ["--runs-dir", runs, "--session", "s"], "random.checkpoint.safetensors")
        #expect(try String(contentsOfFile: runs + "/s/random.jsonl", encoding: .utf8) == "{}\n")
    }
}
