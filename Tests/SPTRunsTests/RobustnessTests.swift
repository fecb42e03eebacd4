import Foundation
import Testing
import SPTRuns

@Suite struct RobustnessTests {
    /// The `spt` binary built beside the test bundle.
    static var sptBinary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("spt").path
    }

    @Test func survivesSIGKILLAtRandomMoments() throws {
        let bin = Self.sptBinary
        #expect(FileManager.default.isExecutableFile(atPath: bin), "\(bin) not built")
        let dir = tempDir()
        var rng = SystemRandomNumberGenerator()
        for i in 0..<20 {
            let path = dir + "/kill\(i).jsonl"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bin)
            p.arguments = ["selftest-writer", "--out", path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            _ = pipe.fileHandleForReading.availableData // "ready": the header is on disk
            usleep(UInt32.random(in: 1_000...60_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal)
            let log = try RunLogReader.read(path)
            // Every complete line reads back; at most the one being written is lost.
            #expect(log.issues.count <= 1, "\(log.issues)")
            #expect(log.issues.allSatisfy { $0.message.contains("torn") })
            let steps = log.records.compactMap { r -> Int? in if case .train(let t) = r { t.step } else { nil } }
            #expect(steps == Array(1...max(1, steps.count)).prefix(steps.count).map { $0 })
        }
    }

    /// Found by `make fuzz`: a high surrogate escape followed by another high surrogate escape
    /// underflowed the pair arithmetic and trapped. Now: replacement characters, no crash.
    @Test func unpairedSurrogateEscapesDecode() throws {
        let crash = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/runlog/seeds/regression-unpaired-surrogate"))
        for line in crash.split(separator: 0x0A) { _ = try? line.withUnsafeBytes { try RunRecord.decode(line: $0) } }
        let text = #"{"kind":"event","step":1,"time":0,"event":"x\udbac\udbacy\ud83d\ude00"}"#
        let r = try Data(text.utf8).withUnsafeBytes { try RunRecord.decode(line: $0) }
        guard case .event(let e) = r else { Issue.record("not an event: \(String(describing: r))"); return }
        #expect(e.event == "x\u{FFFD}\u{FFFD}y😀")
    }

    @Test func fuzzedInputNeverCrashesAndEveryBadLineIsReported() throws {
        var rng = SystemRandomNumberGenerator()
        let good = try sampleRecords().map { try $0.encodedLine() }
        let dir = tempDir()
        for round in 0..<40 {
            var data = good[0] + Data("\n".utf8)
            var bad = 0
            for _ in 0..<100 {
                let g = good[Int.random(in: 1..<good.count, using: &rng)]
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: data += g
                case 1: data += g.prefix(Int.random(in: 1..<g.count, using: &rng)); bad += 1
                case 2:
                    var b = Data((0..<Int.random(in: 1...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
                    b = Data(b.map { $0 == 0x0A || $0 == 0x20 || $0 == 0x0D || $0 == 0x09 ? 0x41 : $0 })
                    data += b; bad += 1
                case 3:
                    var m = g
                    m[Int.random(in: 0..<m.count, using: &rng)] = UInt8(ascii: "}")
                    m[Int.random(in: 0..<m.count, using: &rng)] = UInt8(ascii: "\"")
                    data += m // may or may not still parse: only the accounting below checks it
                default: data += Data("{\"kind\":\"train\",\"step\":\"NaN\",\"loss\":[]}".utf8); bad += 1
                }
                data += Data("\n".utf8)
            }
            let path = dir + "/f\(round).jsonl"
            try data.write(to: URL(fileURLWithPath: path))
            let log = try RunLogReader.read(path)
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().count
            // every line is accounted for: a record, an unknown kind, or a reported issue
            #expect(log.records.count + log.unknownKinds + log.issues.count == lines)
            #expect(log.issues.count >= max(0, bad))
        }
    }
}
