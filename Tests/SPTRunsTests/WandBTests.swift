import Foundation
import Testing
@testable import SPTRuns
import TestSupport

/// W&B run files: the framing (blocks, pieces, CRC), records to run-log records, corrupt and torn
/// input, following a growing file, and a file the real `wandb` package wrote (the fixture of
/// tools/wandb/fixture.py). The round trip with a live `wandb` job is python/tests/test_wandb.py.
@Suite struct WandBTests {
    static let fixture = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("wandb")

    /// A `Record` with one of its record_type fields.
    static func record(_ field: Int, _ build: (inout ProtoWriter) -> Void) -> [UInt8] {
        var w = ProtoWriter()
        w.message(field, build)
        return w.bytes
    }

    static func item(_ w: inout ProtoWriter, field: Int = 1, _ key: String, json: String, nested: Bool = true) {
        w.message(field) { i in
            if nested { i.string(2, key) } else { i.string(1, key) }
            i.string(16, json)
        }
    }

    static func run(config: [(String, String)]) -> [UInt8] {
        record(17) { r in
            r.string(1, "abc123")
            r.string(3, "proj")
            r.message(4) { c in for (k, v) in config { item(&c, k, json: v, nested: false) } }
            r.string(8, "my-run")
            r.message(17) { t in t.varint(1, 1_700_000_000); t.varint(2, 500_000_000) }
        }
    }

    static func history(_ step: Int, _ items: [(String, String)]) -> [UInt8] {
        record(2) { h in
            for (k, v) in items { item(&h, k, json: v) }
            item(&h, "_step", json: "\(step)")
            item(&h, "_runtime", json: "\(Double(step) / 2)")
            item(&h, "_timestamp", json: "1700000000.5")
        }
    }

    func write(_ payloads: [[UInt8]], to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(WandBDatastore.frame(payloads)).write(to: URL(fileURLWithPath: path))
    }

    @Test func crcIsZlibsOverTypeAndData() {
        // zlib's CRC-32 check value, with the type byte as the first byte of the input.
        #expect(WandBDatastore.crc(type: 0x31, Array("23456789".utf8)[...]) == 0xCBF4_3926)
    }

    @Test func recordsOfAnySizeCrossBlocksIntact() throws {
        let path = temporaryDirectory() + "/run-x.wandb"
        // Sizes around a block's end (fewer than 7 bytes left means padding) and several blocks long.
        let payloads = [32768 - 7 - 7 - 3, 1, 0, 70_000, 32761 - 7, 5].enumerated().map { k, n in (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ k) } }
        try write(payloads, to: path)
        let r = WandBDatastoreReader(path: path)
        #expect(try r.poll() == payloads)
        r.finish()
        #expect(r.issues.isEmpty, "\(r.issues)")
    }

    @Test func recordsMapByTheConvention() throws {
        let path = temporaryDirectory() + "/wandb/run-1/run-abc123.wandb"
        try write([
            Self.run(config: [("_wandb", "{}"), ("strategy", "\"kmeans\""), ("lr", "0.05"), ("prompts", "10"), ("deep", "true"),
                              ("task", "\"orientation\""), ("grid", "[1, 2]")]),
            Self.record(7) { s in
                s.message(2) { t in t.varint(1, 1_700_000_002); t.varint(2, 0) }
                Self.item(&s, field: 3, "cpu", json: "12.5", nested: false)
            },
            Self.history(0, [("train/loss", "2.5"), ("lr", "0.05")]),
            Self.history(1, [("val/accuracy", "0.75"), ("nmi/block_1", "0.25"), ("nmi/block_0", "0.125"), ("gpu", "{\"mem\": 7}")]),
            Self.history(2, [("strategy", "\"random\""), ("loss", "NaN")]),
            Self.record(3) { s in Self.item(&s, "best", json: "0.9"); Self.item(&s, "loss", json: "1") },
            Self.record(18) { e in e.varint(1, 2) },
        ], to: path)
        let log = try WandBReader.read(path)
        #expect(log.issues.isEmpty, "\(log.issues)")
        guard case .header(let h)? = log.records.first else { Issue.record("no header"); return }
        #expect((h.run, h.session, h.engine, h.strategy, h.task) == ("my-run", "proj", "wandb", "kmeans", "orientation"))
        #expect((h.lr, h.prompts, h.deep) == (0.05, 10, true))
        #expect(h.params?["grid"] == "[1, 2]" && h.params?["_wandb"] == nil && h.created == "2023-11-14T22:13:20Z")
        let expected: [RunRecord] = [
            .scalar(ScalarRecord(step: 0, time: 1.5, tag: "system/cpu", value: 12.5)),
            .train(TrainRecord(step: 0, epoch: .nan, time: 0, loss: 2.5, lr: 0.05, gradNorm: nil, imagesPerSecond: nil)),
            .eval(EvalRecord(step: 1, epoch: .nan, time: 0.5, split: "val", loss: nil, accuracy: 0.75)),
            .nmi(NMIRecord(step: 1, epoch: .nan, time: 0.5, values: [0.125, 0.25], mode: "?", normalization: "?")),
            .scalar(ScalarRecord(step: 1, time: 0.5, tag: "gpu.mem", value: 7)),
            .segment(SegmentRecord(step: 2, time: 1, strategy: "random", reason: "wandb text")),
            .train(TrainRecord(step: 2, epoch: .nan, time: 1, loss: .nan, lr: nil, gradNorm: nil, imagesPerSecond: nil)),
            .scalar(ScalarRecord(step: 2, time: 1, tag: "summary/best", value: 0.9)),
            .event(EventRecord(step: 2, time: 1, .error, message: "exit code 2")),
        ]
        // Records compare by their JSON lines (NaN ≠ NaN as a Double).
        let got = try log.records.dropFirst().map { String(decoding: try $0.encodedLine(), as: UTF8.self) }
        #expect(got == expected.map { String(decoding: try! $0.encodedLine(), as: UTF8.self) })
        // A wandb/ directory lists its run files as logs.
        #expect(try RunDirectory.logFiles(at: (path as NSString).deletingLastPathComponent + "/..") .map { ($0 as NSString).lastPathComponent } == ["run-abc123.wandb"])
    }

    @Test func corruptAndTornRecordsAreSkippedAndReported() throws {
        let path = temporaryDirectory() + "/run-c.wandb"
        let rows = (0..<3000).map { Self.history($0, [("loss", "\(Double($0))")]) }
        try write([Self.run(config: [])] + rows, to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[40_000] ^= 0xFF                              // inside the second block
        bytes.removeLast(9)                                // the last record torn
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let log = try WandBReader.read(path)
        let steps = log.records.compactMap { if case .train(let t) = $0 { t.step } else { nil } }
        // The second block's records from the bad one on are lost; reading resumes at the third.
        #expect(steps.first == 0 && steps.last == 2998 && steps.count < 2999 && steps.count > 2000)
        #expect(steps == steps.sorted() && Set(steps).count == steps.count)
        #expect(log.issues.first?.description.hasPrefix("byte ") == true && log.issues.first!.message.contains("fails its CRC; the rest of its block skipped"))
        #expect(log.issues.first!.line / 32768 == 1)
        #expect(log.issues.last?.message.contains("torn last chunk") == true)
        // Not a W&B file: reported, never a crash.
        try Data("not a run file at all, just text".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RunLogError.self) { try WandBReader.read(path) }
    }

    @Test func everyTruncationReadsUpToItsLastWholeRecord() throws {
        let source = Self.fixture.appendingPathComponent("run-fixture.wandb").path
        let all = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let whole = try WandBReader.read(source).records.count
        let path = temporaryDirectory() + "/run-t.wandb"
        var previous = 0
        for cut in stride(from: 0, through: all.count, by: 997) + [all.count] {
            try Data(all.prefix(cut)).write(to: URL(fileURLWithPath: path))
            let n = (try? WandBReader.read(path))?.records.count ?? 0
            #expect(n >= previous && n <= whole)
            previous = n
        }
        #expect(previous == whole)
    }

    @Test func aGrowingFileIsFollowedRecordByRecord() throws {
        let source = Self.fixture.appendingPathComponent("run-fixture.wandb").path
        let all = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let whole = try WandBReader.read(source).records.map { try $0.encodedLine() }
        let path = temporaryDirectory() + "/run-g.wandb"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let follower = RunDirectory.follower(path)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var got: [Data] = []
        for start in stride(from: 0, to: all.count, by: 1500) {
            try h.write(contentsOf: Data(all[start..<min(start + 1500, all.count)]))
            got += try follower.follow().records.map { try $0.encodedLine() }
        }
        try h.close()
        #expect(got == whole)
    }

    @Test func theRealWandbPackagesFileReadsAsItsOwnDecoderReadsIt() throws {
        // Parsed with the project's JSON reader: Foundation's rounds some doubles on Linux.
        let bytes = try Data(contentsOf: Self.fixture.appendingPathComponent("expected.json"))
        guard case .object(let expected) = try bytes.withUnsafeBytes({ try JSONValue.parse($0) }),
              case .object(let config)? = expected["config"], case .array(let rows)? = expected["history"] else {
            Issue.record("expected.json is not as tools/wandb/fixture.py writes it"); return
        }
        let log = try WandBReader.read(Self.fixture.appendingPathComponent("run-fixture.wandb").path)
        #expect(log.issues.isEmpty, "\(log.issues)")
        guard case .header(let h)? = log.records.first else { Issue.record("no header"); return }
        #expect((h.run, h.strategy, h.task, h.lr, h.prompts) == ("fixture-run", config["strategy"]?.string, "fashion-mnist", 0.03, 10))
        #expect(h.params?["schedule.decay"] == "cosine")
        // Every number W&B's own protobuf classes decode, at its step, under the convention's name.
        var got: [String: Double] = [:]
        for r in log.records {
            switch r {
            case .train(let t): got["\(t.step) train/loss"] = t.loss; got["\(t.step) lr"] = t.lr
            case .eval(let e): got["\(e.step) val/accuracy"] = e.accuracy
            case .nmi(let n): for (b, v) in n.values.enumerated() { got["\(n.step) nmi/block_\(b)"] = v }
            default: break
            }
        }
        var want: [String: Double] = [:]
        for case .object(let row) in rows {
            let step = row["_step"]?.int ?? -1
            for (k, v) in row where !k.hasPrefix("_") { if case .number(let d) = v { want["\(step) \(k)"] = d } }
        }
        #expect(want.count == 30 * 2 + 3 * 4)
        #expect(got == want)
        let segments = log.records.compactMap { if case .segment(let s) = $0 { "\(s.step) \(s.strategy)" } else { nil } }
        #expect(segments == ["15 mean-pool"])
        #expect(log.records.last.map { if case .event(let e) = $0 { e.kind == .finished } else { false } } == true)
        #expect(log.records.contains { if case .scalar(let s) = $0 { s.tag == "summary/best_val" && s.value == 0.79 } else { false } })
    }
}

extension WandBDatastore {
    /// `payloads` framed as W&B frames them, after the file header: the tests' writer.
    static func frame(_ payloads: [[UInt8]]) -> [UInt8] {
        var out = header
        for p in payloads {
            var rest = p[...], first = true
            repeat {
                let left = block - out.count % block
                if left < chunkHeader { out += [UInt8](repeating: 0, count: left); continue }
                let n = min(rest.count, left - chunkHeader)
                let piece = rest.prefix(n)
                rest = rest.dropFirst(n)
                let type: ChunkType = first ? (rest.isEmpty ? .full : .first) : (rest.isEmpty ? .last : .middle)
                first = false
                out += TFRecord.littleEndian(crc(type: type.rawValue, piece)) + TFRecord.littleEndian(UInt16(n)) + [type.rawValue] + piece
            } while !rest.isEmpty
        }
        return out
    }
}
