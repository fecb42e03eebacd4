import Foundation
import Testing
import SPTRuns

@Suite struct RunLogTests {
    @Test func roundTripGivesIdenticalRecords() throws {
        let path = tempDir() + "/s1/r1.jsonl"
        try writeLog(sampleRecords(), to: path)
        let log = try RunLogReader.read(path)
        #expect(log.records == sampleRecords())
        #expect(log.issues.isEmpty)
        #expect(log.header?.strategy == "kmeans")
    }

    @Test func unknownFieldsAndKindsAreIgnored() throws {
        let path = tempDir() + "/x.jsonl"
        var text = String(decoding: try RunRecord.header(sampleHeader()).encodedLine(), as: UTF8.self)
        text = text.replacingOccurrences(of: "{\"kind\":\"header\",", with: "{\"kind\":\"header\",\"future_field\":[1,2],")
        text += "\n{\"kind\":\"gpu_stats\",\"step\":3,\"watts\":250}\n"
        text += "{\"kind\":\"train\",\"step\":1,\"epoch\":0,\"time\":1,\"loss\":2,\"lr\":0.1,\"grad_norm\":1,\"images_per_second\":5,\"new\":true}\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let log = try RunLogReader.read(path)
        #expect(log.records.count == 2)
        #expect(log.unknownKinds == 1)
        #expect(log.issues.isEmpty)
    }

    @Test func newerSchemaVersionIsRefused() throws {
        var h = sampleHeader()
        h.schema = runLogSchemaVersion + 1
        let path = tempDir() + "/v.jsonl"
        try writeLog([.header(h)], to: path)
        #expect(throws: RunLogError.unsupportedVersion(path: path, version: runLogSchemaVersion + 1)) { try RunLogReader.read(path) }
    }

    @Test func notARunLogGetsAClearError() throws {
        let dir = tempDir()
        try "hello,world\n1,2\n".write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
        #expect(throws: RunLogError.self) { try RunLogReader.read(dir + "/a.csv") }
        #expect(FileManager.default.createFile(atPath: dir + "/empty.jsonl", contents: Data()))
        #expect(throws: RunLogError.notARunLog(path: dir + "/empty.jsonl", message: "the file is empty")) {
            try RunLogReader.read(dir + "/empty.jsonl")
        }
    }

    @Test func tornAndGarbledLinesAreSkippedAndReported() throws {
        let path = tempDir() + "/t.jsonl"
        let lines = try sampleRecords().map { String(decoding: try $0.encodedLine(), as: UTF8.self) }
        var text = lines[0..<4].joined(separator: "\n") + "\n"
        text += "{\"kind\":\"train\",\"step\":9,\"lo\n"          // garbled: line 5
        text += lines[4] + "\n"
        text += String(lines[5].prefix(20))                      // torn last line: line 7
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let log = try RunLogReader.read(path)
        #expect(log.records.count == 5)
        #expect(log.issues.map(\.line) == [5, 7])
        #expect(log.issues[1].message.contains("torn"))
    }

    @Test func followingAGrowingFileSeesOnlyCompleteLines() throws {
        let path = tempDir() + "/g.jsonl"
        let w = try RunLogWriter(path: path)
        let recs = sampleRecords()
        try w.append(recs[0])
        let reader = RunLogReader(path: path)
        #expect(try reader.poll() == [recs[0]])
        // a half-written line stays pending, not an error
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        let line = try recs[1].encodedLine()
        h.write(line.prefix(10))
        #expect(try reader.poll().isEmpty)
        h.write(line.dropFirst(10) + Data("\n".utf8))
        try h.close()
        #expect(try reader.poll() == [recs[1]])
        #expect(reader.log.issues.isEmpty)
    }

    /// A followed log that is truncated, or deleted and written anew, is read again from its start.
    @Test func followNoticesTruncationAndReplacement() throws {
        let dir = tempDir(), path = dir + "/f.jsonl"
        let recs = sampleRecords()
        try writeLog(Array(recs.prefix(5)), to: path)
        let reader = RunLogReader(path: path)
        var (change, got) = try reader.follow()
        #expect(change == .grew && got == Array(recs.prefix(5)))
        // Truncated and rewritten shorter: the reader must not continue at the old offset mid-line.
        try writeLog(Array(recs.prefix(2)), to: dir + "/short.jsonl")
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: dir + "/short.jsonl", toPath: path)
        (change, got) = try reader.follow()
        #expect(change == .restarted(reason: "replaced") || change == .restarted(reason: "truncated"))
        #expect(got == Array(recs.prefix(2)))
        #expect(reader.log.issues.isEmpty)
        // Truncated in place (same inode).
        let fd = open(path, O_WRONLY | O_TRUNC)
        close(fd)
        let w = try RunLogWriter(path: path)
        try w.append(recs[0])
        (change, got) = try reader.follow()
        #expect(change == .restarted(reason: "truncated"))
        #expect(got == [recs[0]] && reader.log.issues.isEmpty && reader.log.header == sampleHeader())
        // Growing again is just growth.
        try w.append(recs[1])
        (change, got) = try reader.follow()
        #expect(change == .grew && got == [recs[1]])
    }

    @Test func readsAHundredThousandRecords() throws {
        let path = tempDir() + "/big.jsonl"
        var text = String(decoding: try RunRecord.header(sampleHeader()).encodedLine(), as: UTF8.self) + "\n"
        for s in 1...100_000 {
            text += String(decoding: try RunRecord.train(TrainRecord(step: s, epoch: Double(s) / 100, time: Double(s) / 10,
                loss: 1 / Double(s), lr: 1e-3, gradNorm: 1, imagesPerSecond: 100)).encodedLine(), as: UTF8.self) + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let log = try RunLogReader.read(path)
        #expect(log.records.count == 100_001)
    }
}
