import Foundation
import Testing
import SPTRuns

@Suite struct CSVExportTests {
    func sampleLog() throws -> RunLog {
        let path = tempDir() + "/r1.jsonl"
        try writeLog(sampleRecords(), to: path)
        return try RunLogReader.read(path)
    }

    /// Compares with Snapshots/<name>.csv; SPT_RECORD_SNAPSHOTS=1 re-records instead.
    func expectSnapshot(_ text: String, _ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/\(name).csv")
        if ProcessInfo.processInfo.environment["SPT_RECORD_SNAPSHOTS"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "snapshot \(name) differs; re-record with SPT_RECORD_SNAPSHOTS=1 if intended")
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

    @Test func quotingFollowsRFC4180() {
        #expect(CSVExport.field("a,b") == "\"a,b\"")
        #expect(CSVExport.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVExport.field("plain") == "plain")
    }

    @Test func pythonCSVModuleReadsTheExport() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            print("python3 missing: skipping the csv-module check"); return
        }
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
