import Foundation

/// A TensorBoard run — one directory of `events.out.tfevents.*` files, read in name order as one
/// stream — as a run log. Tags map to records by a documented convention (docs/guide.md, "TensorBoard
/// logs"): `loss`/`train/loss` with `lr`, `grad_norm`, `epoch` make `train` records;
/// `accuracy`/`<split>/accuracy` with `<split>/loss` make `eval` records; `nmi/block_<i>` make
/// `nmi` records; a `strategy` text starts a segment; every other scalar tag becomes a `scalar`
/// record. Values of one step are gathered until a later step appears (writers log one tag per
/// event), so a followed run shows a step once the next one begins. What `spt export --format
/// tensorboard` wrote carries its records as `spt/record` texts and reads back exactly.
public final class TensorBoardReader {
    public let directory: String
    public private(set) var log: RunLog
    private var files: [(path: String, reader: TFRecordReader)] = []
    private var firstWallTime: Double?
    private var pendingStep: Int?
    private var pending: [(tag: String, value: TensorBoardEvent.Value)] = []
    private var lastWallTime = 0.0
    private var ours = false
    private var headerDone = false
    private var strategy: String?
    private var undecodable = 0

    public static let filePrefix = "events.out.tfevents."

    public init(directory: String) {
        self.directory = directory
        log = RunLog(path: directory)
    }

    /// Whether `path` is a directory holding event files itself.
    public static func isRunDirectory(_ path: String) -> Bool {
        !eventFiles(in: path).isEmpty
    }

    static func eventFiles(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(filePrefix) }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Reads a whole run; a torn last record of each file is reported.
    public static func read(_ directory: String) throws -> RunLog {
        let r = TensorBoardReader(directory: directory)
        _ = try r.poll()
        _ = r.finish()
        guard r.log.header != nil else { throw RunLogError.io(path: directory, message: "no TensorBoard events with values") }
        return r.log
    }

    /// Records completed since the last call (the newest step waits for a later one or `finish`).
    public func poll() throws -> [RunRecord] {
        for f in Self.eventFiles(in: directory) where !files.contains(where: { $0.path == f }) {
            files.append((f, TFRecordReader(path: f)))
        }
        var out: [RunRecord] = []
        for f in files {
            for payload in try f.reader.poll() {
                guard let e = try? TensorBoardEvent(decoding: payload) else {
                    undecodable += 1
                    continue
                }
                out += take(e)
            }
        }
        syncIssues()
        return keep(out)
    }

    /// For following: new records (event files only grow; a new file adds to the run).
    public func follow() throws -> (change: RunLogReader.Change, records: [RunRecord]) { (.grew, try poll()) }

    /// Declares the run complete: the last step's records, and torn tails reported.
    public func finish() -> [RunRecord] {
        files.forEach { $0.reader.finish() }
        syncIssues()
        return keep(flush())
    }

    private func syncIssues() {
        log.issues = files.flatMap { f in f.reader.issues.map { RunLogIssue(byte: UInt64($0.line), message: "\((f.path as NSString).lastPathComponent): \($0.message)") } }
        if undecodable > 0 { log.issues.append(RunLogIssue(line: 0, message: "\(undecodable) record(s) with a valid CRC are not Event protobufs; skipped")) }
    }

    private func keep(_ records: [RunRecord]) -> [RunRecord] {
        for r in records {
            if case .header(let h) = r, log.header == nil { log.header = h }
            log.records.append(r)
        }
        return records
    }

    private func take(_ e: TensorBoardEvent) -> [RunRecord] {
        guard !e.values.isEmpty else { return [] }
        if firstWallTime == nil { firstWallTime = e.wallTime }
        var out: [RunRecord] = []
        if let s = pendingStep, s != e.step { out = flush() }
        pendingStep = e.step
        lastWallTime = e.wallTime
        pending += e.values
        return out
    }

    /// The records of the gathered step.
    private func flush() -> [RunRecord] {
        guard let step = pendingStep else { return [] }
        defer { pending = []; pendingStep = nil }
        let time = lastWallTime - (firstWallTime ?? lastWallTime)
        var scalars: [String: Double] = [:], order: [String] = [], texts: [String: String] = [:], records: [RunRecord] = []
        for (tag, v) in pending {
            switch v {
            case .scalar(let x):
                if scalars.updateValue(x, forKey: tag) == nil { order.append(tag) }
            case .text(let t):
                if tag == "spt/record" {
                    if let r = try? t.utf8CString.withUnsafeBytes({ try RunRecord.decode(line: UnsafeRawBufferPointer(rebasing: $0.dropLast())) }) {
                        records.append(r)
                        if case .header = r { ours = true; headerDone = true }
                    }
                } else {
                    // PyTorch's add_text names its tag `<tag>/text_summary`.
                    texts[tag.hasSuffix("/text_summary") ? String(tag.dropLast("/text_summary".count)) : tag] = t
                }
            }
        }
        // Our own export: every record is in the `spt/record` texts.
        if ours { return records }
        var out: [RunRecord] = []
        if !headerDone {
            headerDone = true
            strategy = texts["strategy"]
            out.append(.header(RunHeader(
                run: (directory as NSString).lastPathComponent, session: ((directory as NSString).deletingLastPathComponent as NSString).lastPathComponent,
                created: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: firstWallTime ?? 0)), engine: "tensorboard",
                task: "?", backbone: "?", strategy: strategy ?? "?", deep: false, prompts: 0, optimizer: "?", lr: .nan, weightDecay: .nan,
                epochs: 0, batch: 0, seed: 0, threads: 0, params: ["source": "tensorboard"])))
        }
        out += records
        if let s = texts["strategy"], s != strategy {
            strategy = s
            out.append(.segment(SegmentRecord(step: step, time: time, strategy: s, reason: "tensorboard text")))
        }
        var used = Set<String>()
        func value(_ tags: [String]) -> Double? {
            for t in tags { if let v = scalars[t] { used.insert(t); return v } }
            return nil
        }
        let epoch = value(["epoch", "train/epoch"]) ?? .nan
        if let loss = value(["loss", "train/loss", "train_loss", "loss/train", "Loss/train"]) {
            out.append(.train(TrainRecord(step: step, epoch: epoch, time: time, loss: loss,
                                          lr: value(["lr", "train/lr", "learning_rate", "train/learning_rate"]),
                                          gradNorm: value(["grad_norm", "train/grad_norm"]),
                                          imagesPerSecond: value(["train/img_per_s", "images_per_second"]))))
        }
        for (split, names) in Self.splits {
            let acc = value(names.flatMap { ["\($0)/accuracy", "\($0)/acc", "accuracy/\($0)", "Accuracy/\($0)"] } + (split == "val" ? ["accuracy", "acc"] : []))
            guard let acc else { continue }
            // The train split's `train/loss` is the step's (above); its epoch loss is `train/epoch_loss`.
            let loss = split == "train" ? value(["train/epoch_loss"]) : value(names.flatMap { ["\($0)/loss", "loss/\($0)", "Loss/\($0)"] })
            out.append(.eval(EvalRecord(step: step, epoch: epoch, time: time, split: split, loss: loss, accuracy: acc)))
        }
        let blocks = order.compactMap { t -> (Int, Double)? in
            guard t.hasPrefix("nmi/block_"), let b = Int(t.dropFirst("nmi/block_".count)), b >= 0 else { return nil }
            return (b, scalars[t]!)
        }.sorted { $0.0 < $1.0 }
        if !blocks.isEmpty, blocks.map(\.0) == Array(0..<blocks.count) {
            blocks.forEach { used.insert("nmi/block_\($0.0)") }
            used.insert("nmi/mean")  // derived from the blocks
            out.append(.nmi(NMIRecord(step: step, epoch: epoch, time: time, values: blocks.map(\.1),
                                      mode: texts["nmi_mode"] ?? "?", normalization: texts["nmi_normalization"] ?? "?")))
        }
        out += order.filter { !used.contains($0) }.map { .scalar(ScalarRecord(step: step, time: time, tag: $0, value: scalars[$0]!)) }
        return out
    }

    /// Eval splits and the tag prefixes that name them.
    static let splits: [(String, [String])] = [("train", ["train"]), ("val", ["val", "eval", "validation", "valid"]), ("test", ["test"])]
}
