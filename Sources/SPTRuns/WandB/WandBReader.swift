import Foundation

/// A Weights & Biases run file (`run-<id>.wandb`, in `wandb/run-…/` or `wandb/offline-run-…/`)
/// as a run log. Each history row (one `wandb.log` call) becomes the records of its `_step` at
/// its `_runtime`, by `MetricConvention`; the run record gives the header: its display name (else
/// its id), project as session, start time, and the config — every entry in `params`, and the
/// entries named like header fields (`strategy`, `task`, `backbone`, `lr`, `weight_decay`, …) in
/// those fields. A `strategy` text in history or a config update of it starts a segment; system
/// metrics become `system/<name>` scalars at the latest step; summary values never logged in
/// history become `summary/<name>` scalars when the run ends; the exit record ends the run,
/// `finished` for exit code 0 and `error` otherwise.
public final class WandBReader {
    public let path: String
    public private(set) var log: RunLog
    private let file: WandBDatastoreReader
    private var start: Double?
    private var strategy: String?
    private var headerDone = false
    private var step = 0
    private var time = 0.0
    private var historyKeys = Set<String>()
    private var summary: [String: Double] = [:]
    /// The config's texts the convention reads beside a step's own (`nmi_mode`, `nmi_normalization`).
    private var configTexts: [String: String] = [:]
    private var undecodable = 0

    public static let fileSuffix = ".wandb"

    public init(path: String) {
        self.path = path
        file = WandBDatastoreReader(path: path)
        log = RunLog(path: path)
    }

    /// Reads a whole run file; a torn tail is reported.
    public static func read(_ path: String) throws -> RunLog {
        let r = WandBReader(path: path)
        _ = try r.poll()
        _ = r.finish()
        guard r.log.header != nil else { throw RunLogError.io(path: path, message: "no W&B run record or history in this file") }
        return r.log
    }

    /// A run file's bytes as a whole log: what `read` gives for a file holding them.
    public static func read(bytes: [UInt8], path: String) -> RunLog {
        let r = WandBReader(path: path)
        _ = r.records(r.file.consume(bytes))
        _ = r.finish()
        return r.log
    }

    /// Records completed since the last call.
    public func poll() throws -> [RunRecord] { records(try file.poll()) }

    private func records(_ payloads: [[UInt8]]) -> [RunRecord] {
        var out: [RunRecord] = []
        for payload in payloads {
            guard let r = try? WandBRecord(decoding: payload) else {
                undecodable += 1
                continue
            }
            out += take(r)
        }
        syncIssues()
        return log.keep(out)
    }

    /// For following: W&B appends to the file, so it only grows.
    public func follow() throws -> (change: RunLogReader.Change, records: [RunRecord]) { (.grew, try poll()) }

    /// Declares the run complete: a torn tail is reported.
    public func finish() -> [RunRecord] {
        file.finish()
        syncIssues()
        return []
    }

    private func syncIssues() {
        log.issues = file.issues
        if undecodable > 0 { log.issues.append(RunLogIssue(line: 0, message: "\(undecodable) record(s) with a valid CRC are not W&B Record protobufs; skipped")) }
    }

    private func take(_ record: WandBRecord) -> [RunRecord] {
        switch record {
        case .run(let id, let name, let project, let start, let config):
            guard !headerDone else { return [] }
            self.start = start
            return [header(run: name.isEmpty ? id : name, session: project, config: config)]
        case .history(let items):
            var out = headerDone ? [] : [header(run: Self.runID(file: path), session: "wandb", config: [])]
            var scalars: [String: Double] = [:], texts = configTexts
            for (key, value) in items {
                switch (key, value) {
                case ("_step", _): step = value.int ?? step
                case ("_runtime", _): time = value.double ?? time
                case ("_timestamp", _): break
                case (_, .string(let s)): texts[key] = s
                case (_, .bool(let b)): scalars[key] = b ? 1 : 0
                default: if let d = value.double { scalars[key] = d }
                }
            }
            let order = scalars.keys.sorted()
            historyKeys.formUnion(order)
            out += MetricConvention.records(step: step, time: time, scalars: scalars, order: order, texts: texts, strategy: &strategy, source: "wandb")
            return out
        case .config(let items):
            guard let s = items.first(where: { $0.key == "strategy" })?.value.string, s != strategy, headerDone else { return [] }
            strategy = s
            return [.segment(SegmentRecord(step: step, time: time, strategy: s, reason: "wandb config"))]
        case .stats(let at, let items):
            guard headerDone else { return [] }
            let t = at.map { $0 - (start ?? $0) } ?? time
            return items.compactMap { key, value in value.double.map { .scalar(ScalarRecord(step: step, time: t, tag: "system/" + key, value: $0)) } }
        case .summary(let items):
            for (key, value) in items where !key.hasPrefix("_") { if let d = value.double { summary[key] = d } }
            return []
        case .exit(let code):
            guard headerDone else { return [] }
            let extra = summary.keys.filter { !historyKeys.contains($0) }.sorted()
                .map { RunRecord.scalar(ScalarRecord(step: step, time: time, tag: "summary/" + $0, value: summary[$0]!)) }
            return extra + [.event(EventRecord(step: step, time: time, code == 0 ? .finished : .error,
                                                message: code == 0 ? nil : "exit code \(code)"))]
        case .other:
            return []
        }
    }

    /// The run id in a run file's name (`run-<id>.wandb` → `<id>`): the run's name where its run
    /// record is missing, and its display name when a directory is watched.
    static func runID(file path: String) -> String {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return name.hasPrefix("run-") ? String(name.dropFirst(4)) : name
    }

    private func header(run: String, session: String, config: WandBRecord.Items) -> RunRecord {
        headerDone = true
        let c = Dictionary(config.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
        strategy = c["strategy"]?.string
        for k in ["nmi_mode", "nmi_normalization"] { configTexts[k] = c[k]?.string }
        var h = MetricConvention.header(run: run, session: session, created: start ?? 0, engine: "wandb", strategy: strategy)
        func text(_ k: String) -> String? { c[k]?.string }
        func number(_ k: String...) -> Double? { k.lazy.compactMap { c[$0]?.double }.first }
        func int(_ k: String...) -> Int? { k.lazy.compactMap { c[$0]?.int }.first }
        h.task = text("task") ?? h.task
        h.backbone = text("backbone") ?? h.backbone
        h.variant = text("variant")
        h.mode = text("mode")
        h.optimizer = text("optimizer") ?? h.optimizer
        h.deep = c["deep"]?.bool ?? h.deep
        h.prompts = int("prompts") ?? h.prompts
        h.lr = number("lr", "learning_rate") ?? h.lr
        h.weightDecay = number("weight_decay", "weightDecay", "wd") ?? h.weightDecay
        h.epochs = int("epochs") ?? h.epochs
        h.batch = int("batch", "batch_size") ?? h.batch
        h.seed = int("seed").flatMap { $0 >= 0 ? UInt64($0) : nil } ?? h.seed
        h.threads = int("threads") ?? h.threads
        func describe(_ v: JSONValue) -> String {
            if case .array(let a) = v { return "[" + a.map(describe).joined(separator: ", ") + "]" }
            return v.string ?? v.text
        }
        for (k, v) in config where !k.hasPrefix("_") { h.params?[k] = describe(v) }
        return .header(h)
    }
}
