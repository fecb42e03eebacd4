import Foundation
import Testing
@testable import SPTRuns
import TestSupport

/// TensorBoard event files: framing, the tag convention, corrupt input, and the export's
/// round trip and name sanitizing. The round trips with PyTorch's and TensorBoard's own code
/// are in `python/tests/test_tensorboard.py`.
@Suite struct TensorBoardTests {
    /// An event file of `events` in `dir` (the writer the export uses).
    func write(_ events: [TensorBoardEvent], to dir: String, name: String = "events.out.tfevents.1.test") throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try Data(events.flatMap { TFRecord.frame($0.encoded()) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(TFRecord.crc32c(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func exportedLogsReadBackAsTheyWere() throws {
        let d = temporaryDirectory()
        let w = try RunLogWriter(path: d + "/in/s/r.jsonl")
        for r in RecordRoundTripTests.full { try w.append(r) }
        let (runs, issues) = try TensorBoardExport.export(paths: [d + "/in"], to: d + "/tb")
        #expect(issues.isEmpty && runs == [d + "/tb/r"])
        let log = try TensorBoardReader.read(runs[0])
        #expect(log.issues.isEmpty, "\(log.issues)")
        #expect(try log.records.map { try $0.encodedLine() } == RecordRoundTripTests.full.map { try $0.encodedLine() })
    }

    @Test func tagsBecomeRecordsByTheConvention() throws {
        let d = temporaryDirectory() + "/job/run1"
        let events = [
            TensorBoardEvent(wallTime: 100, step: 0, fileVersion: "brain.Event:2"),
            TensorBoardEvent(wallTime: 100, step: 0, values: [("strategy", .text("kmeans"))]),
            TensorBoardEvent(wallTime: 101, step: 1, values: [("train/loss", .scalar(2.5))]),
            TensorBoardEvent(wallTime: 101, step: 1, values: [("train/lr", .scalar(0.125)), ("gpu/memory", .scalar(7))]),
            TensorBoardEvent(wallTime: 102, step: 2, values: [("val/accuracy", .scalar(0.75)), ("val/loss", .scalar(0.5)),
                                                              ("nmi/block_1", .scalar(0.25)), ("nmi/block_0", .scalar(0.125)), ("nmi/mean", .scalar(0.1875))]),
            TensorBoardEvent(wallTime: 103, step: 3, values: [("strategy", .text("random")), ("loss", .scalar(1))]),
        ]
        _ = try write(events, to: d)
        let log = try TensorBoardReader.read(d)
        #expect(log.issues.isEmpty)
        guard case .header(let h)? = log.records.first else { Issue.record("no header"); return }
        #expect((h.run, h.session, h.strategy, h.engine) == ("run1", "job", "kmeans", "tensorboard"))
        // Records compare by their JSON lines (NaN ≠ NaN as a Double).
        let expected: [RunRecord] = [
            .train(TrainRecord(step: 1, epoch: .nan, time: 1, loss: 2.5, lr: 0.125, gradNorm: nil, imagesPerSecond: nil)),
            .scalar(ScalarRecord(step: 1, time: 1, tag: "gpu/memory", value: 7)),
            .eval(EvalRecord(step: 2, epoch: .nan, time: 2, split: "val", loss: 0.5, accuracy: 0.75)),
            .nmi(NMIRecord(step: 2, epoch: .nan, time: 2, values: [0.125, 0.25], mode: "?", normalization: "?")),
            .segment(SegmentRecord(step: 3, time: 3, strategy: "random", reason: "tensorboard text")),
            .train(TrainRecord(step: 3, epoch: .nan, time: 3, loss: 1, lr: nil, gradNorm: nil, imagesPerSecond: nil)),
        ]
        let got = try log.records.dropFirst().map { String(decoding: try $0.encodedLine(), as: UTF8.self) }
        #expect(got == expected.map { String(decoding: try! $0.encodedLine(), as: UTF8.self) })
        // A directory above run directories lists each of them as a log.
        #expect(try RunDirectory.logFiles(at: (d as NSString).deletingLastPathComponent) == [d])
    }

    @Test func aGrowingRunIsFollowedRecordByRecord() throws {
        let d = temporaryDirectory() + "/run"
        let events = (1...4).map { TensorBoardEvent(wallTime: Double($0), step: $0, values: [("loss", .scalar(Double($0)))]) }
        let path = try write(Array(events[0..<2]), to: d)
        let follower = RunDirectory.follower(d)
        // Step 2 waits for a later step: writers log one tag per event.
        #expect(try follower.follow().records.map(\.kind) == ["header", "train"])
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        let more = events[2...].flatMap { TFRecord.frame($0.encoded()) }
        try h.write(contentsOf: Data(more.prefix(10)))    // half a record: nothing yet
        #expect(try follower.follow().records.isEmpty)
        try h.write(contentsOf: Data(more.dropFirst(10)))
        try h.close()
        #expect(try follower.follow().records.map(\.step) == [2, 3])
        // A second event file of the same run is picked up.
        _ = try write([TensorBoardEvent(wallTime: 9, step: 9, values: [("loss", .scalar(9))])], to: d, name: "events.out.tfevents.2.test")
        #expect(try follower.follow().records.map(\.step) == [4])
    }

    @Test func tf2TensorScalarsAreRead() throws {
        // tf.summary.scalar's shape: a scalar DT_FLOAT tensor in tensor_content, and a DT_DOUBLE one in double_val.
        var w = ProtoWriter()
        w.double(1, 5)
        w.varint(2, 4)
        w.message(5) { s in
            s.message(1) { v in
                v.string(1, "accuracy")
                v.message(8) { t in t.varint(1, 1); t.bytes(4, TFRecord.littleEndian(Float(0.625).bitPattern)) }
            }
            s.message(1) { v in
                v.string(1, "loss")
                v.message(8) { t in t.varint(1, 2); t.double(6, 0.3) }
            }
        }
        let e = try TensorBoardEvent(decoding: w.bytes)
        #expect(e.step == 4 && e.values.map(\.tag) == ["accuracy", "loss"])
        #expect(e.values.map(\.value) == [.scalar(0.625), .scalar(0.3)])
    }

    @Test func corruptRecordsAreSkippedAndReported() throws {
        let d = temporaryDirectory()
        let events = (1...4).map { TensorBoardEvent(wallTime: Double($0), step: $0, values: [("loss", .scalar(Double($0)))]) }
        let path = try write(events, to: d)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let recordLength = TFRecord.frame(events[0].encoded()).count
        bytes[recordLength + 14] ^= 0xFF                   // inside the second record's payload
        bytes.removeLast(5)                                // the fourth record torn
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let log = try TensorBoardReader.read(d)
        let losses = log.records.compactMap { if case .train(let t) = $0 { t.loss } else { nil } }
        #expect(losses == [1, 3])
        #expect(log.issues.count == 2)
        #expect(log.issues[0].description == "byte \(recordLength): events.out.tfevents.1.test: record of \(events[1].encoded().count) bytes fails its CRC; skipped")
        #expect(log.issues[1].description.contains("torn last record"))
        // A length whose CRC fails: the rest of the file cannot be framed.
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[recordLength * 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let cut = try TensorBoardReader.read(d)
        #expect(cut.records.count == 2 && cut.issues.contains { $0.message.contains("length fails its CRC") })
        // Garbage that is not a TFRecord at all: reported, not a crash.
        try Data("not an event file at all, just text".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RunLogError.self) { try TensorBoardReader.read(d) }
    }

    @Test func hostileRunNamesStayInsideTheOutputDirectory() throws {
        let d = temporaryDirectory()
        let hostile = ["../../escape", "/etc/cron.d/x", "..", ".", ".hidden", "a\u{1}b\nc", "", String(repeating: "long", count: 80),
                       "x/../../y", "spaces and ü"]
        for (i, id) in hostile.enumerated() {
            let w = try RunLogWriter(path: "\(d)/in/s/log\(i).jsonl")
            try w.append(.header(RunHeader(run: id, session: "s", engine: "e", task: "t", backbone: "b", strategy: "random", deep: false,
                                       prompts: 1, optimizer: "adamw", lr: 0.1, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        }
        let (runs, _) = try TensorBoardExport.export(paths: [d + "/in"], to: d + "/out")
        #expect(runs.count == hostile.count)
        let names = try FileManager.default.contentsOfDirectory(atPath: d + "/out").sorted()
        #expect(names.count == hostile.count)
        for n in names {
            #expect(RunDirectory.safeName(n) == n && !n.hasPrefix(".") && n.count <= 100 && !n.contains("/"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).sorted() == ["in", "out"])
        #expect(RunDirectory.safeName("../../escape") == "_._.._escape")
        #expect(RunDirectory.safeName("..") == "_." && RunDirectory.safeName("") == "run")
        // Nothing is overwritten: a second export into the same directory is refused.
        #expect(throws: OutputError.self) { try TensorBoardExport.export(paths: [d + "/in"], to: d + "/out") }
    }
}
