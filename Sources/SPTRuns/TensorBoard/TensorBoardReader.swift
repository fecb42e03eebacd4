import Foundation

/// A TensorBoard run — one directory of `events.out.tfevents.*` files, read in name order as one
/// stream — as a run log. Tags map to records by `MetricConvention`. Values of one step are
/// gathered until a later step appears (writers log one tag per event), so a followed run shows
/// a step once the next one begins. What `spt export --format tensorboard` wrote carries its
/// records as `spt/record` texts and reads back exactly.
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
        return log.keep(out)
    }

    /// For following: new records (event files only grow; a new file adds to the run).
    public func follow() throws -> (change: RunLogReader.Change, records: [RunRecord]) { (.grew, try poll()) }

    /// Declares the run complete: the last step's records, and torn tails reported.
    public func finish() -> [RunRecord] {
        files.forEach { $0.reader.finish() }
        syncIssues()
        return log.keep(flush())
    }

    private func syncIssues() {
        log.issues = files.flatMap { f in f.reader.issues.map { RunLogIssue(byte: UInt64($0.line), message: "\((f.path as NSString).lastPathComponent): \($0.message)") } }
        if undecodable > 0 { log.issues.append(RunLogIssue(line: 0, message: "\(undecodable) record(s) with a valid CRC are not Event protobufs; skipped")) }
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
            out.append(.header(MetricConvention.header(
                run: (directory as NSString).lastPathComponent, session: ((directory as NSString).deletingLastPathComponent as NSString).lastPathComponent,
                created: firstWallTime ?? 0, engine: "tensorboard", strategy: strategy)))
        }
        return out + records + MetricConvention.records(step: step, time: time, scalars: scalars, order: order, texts: texts,
                                                        strategy: &strategy, source: "tensorboard")
    }
}
