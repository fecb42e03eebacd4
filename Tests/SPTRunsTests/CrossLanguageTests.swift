import Foundation
import Testing
import SPTRuns
import TestSupport

/// Every name this side shares with `python/spt_torch` — record kinds and fields with their types,
/// events, header params, control commands, metric names — equals the Python side's
/// (`spt_torch/vocabulary.py`), and every record kind, with a non-finite value in every float
/// field, goes Swift writer → Python reader (checked field by field) → Python writer → Swift
/// reader unchanged. Renaming a name on one side only fails here.
@Suite struct CrossLanguageTests {
    /// The records of `RecordRoundTripTests.full` with every float field NaN, +∞ or −∞.
    static let nonFinite: [RunRecord] = {
        let (n, p, m) = (Double.nan, Double.infinity, -Double.infinity)
        return [
            .header(RunHeader(run: "r", session: "s", created: "2026-12-03T00:00:00Z", engine: "e", task: "t", backbone: "b",
                              backboneHash: "h", strategy: "mean-pool", variant: "authors", deep: false, prompts: 1, mode: "prompt",
                              pooling: "cls", optimizer: "adamw", lr: n, weightDecay: p, epochs: 1, batch: 2, seed: 3, threads: 1,
                              params: RunHeader.params([.evalProtocol: "tune", .trainImages: "800"]))),
            .train(TrainRecord(step: 1, epoch: n, time: p, loss: m, lr: n, gradNorm: p, imagesPerSecond: m)),
            .eval(EvalRecord(step: 2, epoch: p, time: m, split: "test", loss: n, accuracy: p)),
            .nmi(NMIRecord(step: 3, epoch: m, time: n, values: [n, p, m], mode: "tokens", normalization: "sqrt")),
            .attention(AttentionRecord(step: 3, epoch: p, time: m, cls: [n, p], patches: [m, n])),
            .projection(ProjectionRecord(step: 0, centre: [[n]], axes: [[p, m]], explained: [[n, p]], image: "AA==", imageWidth: 1, imageHeight: 1, imageChannels: 1)),
            .map(MapRecord(step: 3, epoch: n, time: p, prompts: [[m, n]], patches: [[p, m]], nearest: [[n]], imageNearest: [[0]], imageAttention: [[p]])),
            .initialization(InitRecord(step: 0, strategy: "kmeans", variant: "authors", seconds: n, gatherSeconds: p, iterations: 1,
                                       inertia: m, images: 2, cosine: [n], effectiveRank: [p], nearest: [m])),
            .segment(SegmentRecord(step: 5, time: n, strategy: "random", variant: "authors", reason: "key 1")),
            .event(EventRecord(step: 6, time: p, .diverged, message: "loss is NaN")),
            .scalar(ScalarRecord(step: 7, time: m, tag: "t", value: n)),
        ]
    }()

    /// `{"records": {kind: {field: [type, required]}}, "events": …}` as `spt_torch.vocabulary.describe()` gives it.
    func pythonVocabulary() throws -> [String: Any] {
        let r = try runPython("import json; from spt_torch.vocabulary import describe; print(json.dumps(describe()))")
        try #require(r.status == 0, "spt_torch.vocabulary failed")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
    }

    /// This side's record table, from the structs themselves: each stored property's name as the
    /// encoder writes it, its type, and whether it is optional.
    static func swiftRecords() throws -> [String: [String: [String]]] {
        var table: [String: [String: [String]]] = [:]
        for r in RecordRoundTripTests.full where table[r.kind] == nil {
            let payload = Mirror(reflecting: r).children.first!.value
            var fields: [String: [String]] = [:]
            for child in Mirror(reflecting: payload).children {
                var type = String(describing: Swift.type(of: child.value)), required = "true"
                if type.hasPrefix("Optional<") { type = String(type.dropFirst(9).dropLast()); required = "false" }
                let name = child.label!.reduce(into: "") { s, c in s += c.isUppercase ? "_" + c.lowercased() : String(c) }
                let types = ["Int": "int", "UInt64": "int", "Double": "float", "String": "str", "Bool": "bool",
                             "Array<Double>": "floats", "Array<Array<Double>>": "rows", "Dictionary<String, String>": "params"]
                fields[name] = [try #require(types[type], "\(r.kind).\(name): type \(type) has no name in the vocabulary"), required]
            }
            // The names are the ones the encoder writes.
            let written = try #require(try JSONSerialization.jsonObject(with: r.encodedLine()) as? [String: Any])
            #expect(Set(written.keys) == Set(fields.keys).union(["kind"]), "\(r.kind): snake-cased names differ from the encoder's")
            table[r.kind] = fields
        }
        return table
    }

    @Test(.enabled(if: onPath("python3"), "needs python3"))
    func bothSidesNameTheSameThings() throws {
        let py = try pythonVocabulary()
        #expect(py["schema"] as? Int == runLogSchemaVersion)
        let pyRecords = try #require(py["records"] as? [String: [String: [Any]]])
        let swift = try Self.swiftRecords()
        #expect(Set(pyRecords.keys) == Set(swift.keys), "record kinds")
        for (kind, fields) in swift {
            let theirs = (pyRecords[kind] ?? [:]).mapValues { $0.map { "\($0)" }.map { $0 == "1" ? "true" : $0 == "0" ? "false" : $0 } }
            for name in Set(fields.keys).union(theirs.keys).sorted() {
                #expect(fields[name] == theirs[name], "\(kind).\(name): Swift \(fields[name] ?? ["absent"]), Python \(theirs[name] ?? ["absent"])")
            }
        }
        #expect(py["events"] as? [String] == RunEvent.known.map(\.name))
        #expect(py["ending_events"] as? [String] == RunEvent.known.filter(\.ends).map(\.name).sorted())
        #expect(py["header_params"] as? [String] == HeaderParam.allCases.map(\.rawValue).sorted())
        let commands: [ControlChannel.Command] = [.switchStrategy("kmeans"), .pause, .resume, .restart]
        #expect(py["control_commands"] as? [String] == commands.map(\.name))
        let metrics: [Metric] = [.trainLoss, .learningRate, .gradNorm, .throughput, .loss(split: "val"), .loss(split: "train"),
                                 .accuracy(split: "val"), .accuracy(split: "train"), .nmi(block: 3), .nmiMean,
                                 .attention(from: "cls", block: 3), .attention(from: "patches", block: nil), .nearest(block: 3), .nearest(block: nil),
                                 .scalar("gpu/memory_gb")]
        #expect(py["metrics"] as? [[String]] == metrics.map { [$0.description, TensorBoardExport.tag($0)] })
    }

    @Test(.enabled(if: onPath("python3"), "needs python3"))
    func everyRecordGoesThroughPythonAndBack() throws {
        let dir = temporaryDirectory(), swiftLog = dir + "/swift.jsonl", pythonLog = dir + "/python.jsonl"
        for (name, records) in [("full", RecordRoundTripTests.full), ("non-finite", Self.nonFinite)] {
            try records.map { String(decoding: try $0.encodedLine(), as: UTF8.self) + "\n" }.joined()
                .write(toFile: swiftLog, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: pythonLog)
            // Read, check each record against Python's table, write each back with Python's writer.
            let script = """
                import sys
                from spt_torch.runlog import RunLog, check, read
                records, issues = read(sys.argv[1])
                problems = issues + [p for r in records for p in check(r)]
                if problems:
                    sys.exit("\\n".join(problems))
                header = {k: v for k, v in records[0].items() if k not in ("kind", "schema")}
                with RunLog(sys.argv[2], **header) as log:
                    for r in records[1:]:
                        fields = {k: v for k, v in r.items() if k != "kind"}
                        if r["kind"] == "event":
                            log.event(fields.pop("event"), **fields)
                        else:
                            getattr(log, r["kind"])(**fields)
                """
            let r = try runPython(script, [swiftLog, pythonLog])
            #expect(r.status == 0, "\(name): Python could not read or rewrite Swift's records")
            let back = try RunLogReader.read(pythonLog)
            #expect(back.issues.isEmpty, "\(back.issues)")
            #expect(back.records.count == records.count, "\(name)")
            for (a, b) in zip(back.records, records) {
                #expect(try a.encodedLine() == b.encodedLine(), "\(name): \(a.kind) differs after Python")
            }
        }
    }
}
