import Foundation
import Testing
import TestSupport
import SPTRuns

@Suite struct CSVExportTests {
    func sampleLog() throws -> RunLog {
        let path = tempDir() + "/r1.jsonl"
        try writeLog(sampleRecords(), to: path)
        return try RunLogReader.read(path)
    }

    /// Compares with Snapshots/<name>.csv (a line diff on failure).
    func expectSnapshot(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try TestSupport.expectSnapshot(text, at: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/\(name).csv"),
                                       sourceLocation: sourceLocation)
    }

    @Test func tidyLayout() throws {
        try expectSnapshot(CSVExport.render([try sampleLog()], layout: .tidy, smoothing: 0.5), "tidy")
    }

    @Test func wideLayout() throws {
        try expectSnapshot(CSVExport.render([try sampleLog()], layout: .wide, smoothing: 0.5), "wide")
    }

    /// Two logs with one run id (a renamed copy beside the run) stay two runs in the export.
    @Test func logsSharingARunIDStayDistinct() throws {
        let dir = tempDir()
        try writeLog(sampleRecords(run: "r"), to: dir + "/r.jsonl")
        try writeLog(sampleRecords(run: "r"), to: dir + "/copy-of-r.jsonl")
        let logs = try [dir + "/copy-of-r.jsonl", dir + "/r.jsonl"].map { try RunLogReader.read($0) }
        let header = CSVExport.render(logs, layout: .wide, smoothing: 0.5).split(separator: "\r\n")[0].split(separator: ",")
        #expect(Set(header).count == header.count)
        #expect(header.contains("copy-of-r:train/loss") && header.contains("r:train/loss"))
    }

    /// A log that has only loss and accuracy (as a TensorBoard log of those two tags reads) exports
    /// those two: no column or row for a metric the log never had.
    @Test func onlyTheMetricsALogHasAreExported() throws {
        let records: [RunRecord] = (1...3).flatMap { s -> [RunRecord] in
            [.train(TrainRecord(step: s, epoch: .nan, time: Double(s), loss: 1 / Double(s), lr: nil, gradNorm: nil, imagesPerSecond: nil)),
             .eval(EvalRecord(step: s, epoch: .nan, time: Double(s), split: "val", loss: nil, accuracy: 0.5))]
        }
        var log = RunLog(path: "tb")
        log.records = records
        let tidy = CSVExport.render([log], layout: .tidy, smoothing: 0).split(separator: "\r\n").dropFirst()
        #expect(Set(tidy.map { $0.split(separator: ",")[6] }) == ["train/loss", "val/acc"] && tidy.count == 6)
        let wide = CSVExport.render([log], layout: .wide, smoothing: 0).split(separator: "\r\n")
        #expect(wide[0] == "step,smoothing_weight,tb:train/loss,tb:train/loss:smoothed,tb:val/acc,tb:val/acc:smoothed" && wide.count == 4)
    }

    @Test func quotingFollowsRFC4180() {
        #expect(CSVExport.field("a,b") == "\"a,b\"")
        #expect(CSVExport.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVExport.field("plain") == "plain")
        #expect(CSVExport.field("id\r\nsplit") == "\"id\r\nsplit\"")
    }

    /// An RFC 4180 reader written for the test: records of fields over bytes.
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], f: [UInt8] = [], quoted = false
        let b = Array(text.utf8)
        var i = 0
        func endField() { row.append(String(decoding: f, as: UTF8.self)); f = [] }
        while i < b.count {
            let c = b[i]
            if quoted {
                if c == 0x22 { if i + 1 < b.count && b[i + 1] == 0x22 { f.append(0x22); i += 1 } else { quoted = false } } else { f.append(c) }
            } else if c == 0x22 && f.isEmpty { quoted = true
            } else if c == 0x2C { endField()
            } else if c == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { endField(); rows.append(row); row = []; i += 1
            } else { f.append(c) }
            i += 1
        }
        return rows
    }

    /// Any text in any field — CR, LF, CR LF, quotes, commas, NUL, non-ASCII, empty — reads back
    /// as itself from a row of quoted fields joined by commas and ended by CR LF.
    @Test func everyFieldRoundTripsThroughAnRFC4180Reader() {
        let pieces = ["\r", "\n", "\r\n", "\"", ",", "\0", "a", " ", "é", "🧪", "\"\"", "x,y", ""]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let fields = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                (0..<Int.random(in: 0...6, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            }
            let line = fields.map(CSVExport.field).joined(separator: ",") + "\r\n"
            // A lone empty field is an empty line: skip that one degenerate row.
            if fields == [""] { continue }
            #expect(Self.parse(line) == [fields], "\(fields.map { $0.debugDescription })")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"))
    func pythonCSVModuleReadsTheExport() throws {
        let dir = tempDir()
        try writeLog(sampleRecords(run: "a"), to: dir + "/s/a.jsonl")
        try writeLog(sampleRecords(run: "b,with comma"), to: dir + "/s/b.jsonl")
        try CSVExport.export(paths: [dir + "/s"], to: dir + "/out.csv", layout: .tidy, smoothing: 0.6)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline=''))); print(len(r), len({x['run'] for x in r}), r[0]['smoothing_weight'])", dir + "/out.csv"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // per run: 4 train steps × 4 metrics + 1 eval × 2 + 2 NMI × (2 blocks + mean) = 24
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "48 2 0.6")
    }
}

@Suite struct ExportSafetyTests {
    func session() throws -> String {
        let dir = tempDir() + "/session"
        try writeLog(sampleRecords(run: "a"), to: dir + "/a.jsonl")
        return dir
    }

    func refuses(_ out: String, inputs: [String], _ why: String) {
        do { try CSVExport.export(paths: inputs, to: out, layout: .tidy, smoothing: 0.6) } catch {
            #expect("\(error)".contains(why), "\(error)")
            return
        }
        Issue.record("\(out) was not refused")
    }

    @Test func anExistingDirectoryIsRefusedAndKept() throws {
        let s = try session()
        let target = tempDir() + "/keep"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target + "/precious.txt", contents: Data("x".utf8))
        refuses(target, inputs: [s], "is a directory")
        #expect(FileManager.default.fileExists(atPath: target + "/precious.txt"))
    }

    @Test func inputsAndPathsInsideThemAreRefused() throws {
        let s = try session()
        let before = try Data(contentsOf: URL(fileURLWithPath: s + "/a.jsonl"))
        refuses(s, inputs: [s], "directory")
        refuses(s + "/a.jsonl", inputs: [s], "run log")
        refuses(s + "/a.jsonl", inputs: [s + "/a.jsonl"], "run log")
        refuses(s + "/out.csv", inputs: [s], "inside the input directory")
        refuses(s + "/../session/./sub/out.csv", inputs: [s], "inside the input directory")
        // Through a symlink to the session.
        let link = tempDir() + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: s)
        refuses(link + "/out.csv", inputs: [s], "inside the input directory")
        #expect(try Data(contentsOf: URL(fileURLWithPath: s + "/a.jsonl")) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s) == ["a.jsonl"])
    }

    @Test func noLogsIsAnError() throws {
        let empty = tempDir()
        refuses(tempDir() + "/out.csv", inputs: [empty], "no run logs")
        #expect(!FileManager.default.fileExists(atPath: empty + "/out.csv"))
    }

    @Test func smoothingOutsideItsRangeIsRefused() throws {
        let s = try session()
        for w in [5, -0.1, .nan] {
            #expect(throws: RunLogError.self) { try CSVExport.export(paths: [s], to: tempDir() + "/o.csv", layout: .tidy, smoothing: w) }
        }
    }

    @Test func aFailedWriteLeavesTheTargetAndNoTemporaryFile() throws {
        let s = try session()
        let dir = tempDir()
        let out = dir + "/out.csv"
        FileManager.default.createFile(atPath: out, contents: Data("old".utf8))
        #expect(throws: RunLogError.self) {
            try SafeOutput.write(to: out) { emit in try emit("new"); throw RunLogError.io(path: out, message: "injected") }
        }
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.csv"])
        // An ordinary file is replaced whole.
        try CSVExport.export(paths: [s], to: out, layout: .tidy, smoothing: 0.6)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("run,strategy"))
    }

    /// The wide layout keeps a metric logged twice at one step as a second row with that step.
    @Test func wideKeepsRecordsSharingAStep() throws {
        let path = tempDir() + "/d.jsonl"
        try writeLog([.header(sampleHeader()),
                      .eval(EvalRecord(step: 5, epoch: 1, time: 1, split: "val", loss: 1, accuracy: 0.5)),
                      .eval(EvalRecord(step: 5, epoch: 1, time: 2, split: "val", loss: 0.5, accuracy: 0.75))], to: path)
        let rows = CSVExport.render([try RunLogReader.read(path)], layout: .wide, smoothing: 0).split(separator: "\r\n")
        #expect(rows.count == 3)
        #expect(rows[1].hasPrefix("5,0.0,1.0,1.0,0.5,0.5"))
        #expect(rows[2].hasPrefix("5,0.0,0.5,0.5,0.75,0.75"))
    }

    /// `spt export` of a long log: the process's peak memory does not grow with the log.
    @Test func exportStreamsLongLogs() throws {
        let bin = RobustnessTests.sptBinary
        let dir = tempDir()
        let path = dir + "/long.jsonl"
        var text = String(decoding: try RunRecord.header(sampleHeader()).encodedLine(), as: UTF8.self) + "\n"
        for i in 1...50_000 {
            text += String(decoding: try RunRecord.train(TrainRecord(step: i, epoch: Double(i) / 30, time: Double(i) / 100, loss: 1 / Double(i),
                                                                  lr: 1e-3, gradNorm: 1, imagesPerSecond: 100)).encodedLine(), as: UTF8.self) + "\n"
        }
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        text = ""
        for layout in ["tidy", "wide"] {
            let (status, peakKB) = try runMeasured(bin, ["export", path, "--out", dir + "/out-\(layout).csv", "--layout", layout])
            #expect(status == 0)
            // Reading the whole log first took 179 MB here; streaming holds a chunk (34 MB in all).
            #expect(peakKB < 80_000, "\(layout): peak RSS \(peakKB) kB")
        }
        let lines = try String(contentsOfFile: dir + "/out-tidy.csv", encoding: .utf8).split(separator: "\r\n").count
        #expect(lines == 1 + 4 * 50_000)
        let wide = try String(contentsOfFile: dir + "/out-wide.csv", encoding: .utf8).split(separator: "\r\n").count
        #expect(wide == 1 + 50_000)
    }
}
