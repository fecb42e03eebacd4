import Foundation

/// CSV export of whole sessions: every run and every metric in one file, raw and smoothed, with
/// the smoothing weight written into the file. Logs are streamed: memory holds a chunk of each
/// log and one smoothing state per curve, whatever the logs' length.
public enum CSVExport {
    public enum Layout: String, CaseIterable, Sendable { case tidy, wide }

    /// RFC 4180 field quoting. Looked at byte by byte: Swift's "\r\n" is one Character, equal
    /// to neither "\r" nor "\n", so a Character test would leave CR LF unquoted.
    public static func field(_ s: String) -> String {
        s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D || $0 == 0 })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return String(v)
    }

    /// The CSV text of logs already in memory (tests, small exports).
    public static func render(_ logs: [RunLog], layout: Layout, smoothing: Double) -> String {
        var out = ""
        let sources = logs.map { log in
            LogSource(path: log.path, header: log.header) {
                var done = false
                return { defer { done = true }; return done ? nil : log.records }
            }
        }
        try! write(sources, layout: layout, smoothing: smoothing) { out += $0 }
        return out
    }

    /// Reads the logs a list of paths names (files or directories) and writes one CSV file.
    /// The file is written beside `out` under a temporary name and renamed over it when complete;
    /// `out` may not be a directory, an input log, a file inside an input directory, or another
    /// run log. Returns the issues met while reading, so callers can report skipped lines.
    @discardableResult
    public static func export(paths: [String], to out: String, layout: Layout, smoothing: Double) throws -> [String] {
        guard smoothing.isFinite, (0...0.999).contains(smoothing) else {
            throw RunLogError.io(path: out, message: "smoothing weight \(smoothing) is outside [0, 0.999]")
        }
        var files: [String] = []
        for p in paths { files += try RunDirectory.logFiles(at: p) }
        guard !files.isEmpty else {
            throw RunLogError.io(path: paths.joined(separator: ", "), message: "no run logs (.jsonl files, TensorBoard event directories or W&B run files) to export")
        }
        try SafeOutput.check(out, inputs: paths + files)
        // A first pass reads the headers (names) and, for the wide layout, which curves each log has.
        var issues: [String] = []
        var sources: [LogSource] = []
        for f in files {
            if RunDirectory.format(f) != .runLog {
                // Other tools' logs are read whole (their records are decoded anyway to map names).
                let log = try RunDirectory.read(f)
                issues += log.issues.map { "\(f): \($0)" }
                sources.append(LogSource(path: f, header: log.header) {
                    var done = false
                    return { defer { done = true }; return done ? nil : log.records }
                })
                continue
            }
            let head = try RunLogReader.stream(f) { _ in }
            issues += head.issues.map { "\(f): \($0)" }
            sources.append(LogSource(path: f, header: head.header) {
                let reader = RunLogReader(path: f, keepsRecords: false)
                return { try reader.nextChunk(maxBytes: 1 << 20) }
            })
        }
        try SafeOutput.write(to: out) { emit in try write(sources, layout: layout, smoothing: smoothing, emit) }
        return issues
    }

    /// A log to export: its header and passes over its records; each call of `pass` starts a
    /// new pass, whose function returns the next chunk of records, nil at the end.
    struct LogSource {
        let path: String
        let header: RunHeader?
        let pass: () -> () throws -> [RunRecord]?
        var runName: String { header?.run ?? ((path as NSString).lastPathComponent as String) }

        func forEach(_ body: (RunRecord) throws -> Void) throws {
            let next = pass()
            while let chunk = try next() { try chunk.forEach(body) }
        }
    }

    /// Writes rows through `emit`, each ending with CRLF as RFC 4180 specifies. Runs are named as
    /// the dashboard names them: distinct even where logs share a run id.
    static func write(_ logs: [LogSource], layout: Layout, smoothing: Double, _ emit: (String) throws -> Void) throws {
        let names = RunDirectory.distinctNames(logs.map(\.runName), paths: logs.map(\.path))
        func row(_ fields: [String]) throws { try emit(fields.map(field).joined(separator: ",") + "\r\n") }
        switch layout {
        case .tidy:
            try row(["run", "strategy", "segment", "step", "epoch", "wall_time", "metric", "block", "value", "smoothed", "smoothing_weight"])
            for (log, name) in zip(logs, names) {
                var curves = Curves(smoothing: smoothing)
                var segment = 0, strategy = log.header?.strategy ?? "?"
                try log.forEach { r in
                    if case .segment(let s) = r { segment += 1; strategy = s.strategy }
                    for (metric, p) in r.points {
                        let s = curves.smooth(metric, p.value).smoothed
                        try row([name, strategy, String(segment), String(p.step), number(p.epoch), number(p.time), metric.description,
                                 metric.block.map(String.init) ?? "", number(p.value), number(s), number(smoothing)])
                    }
                }
            }
        case .wide:
            try writeWide(logs, names: names, smoothing: smoothing, row)
        }
    }

    /// One row per step and a raw and smoothed column per run × metric. A value whose column is
    /// already filled at that step (a metric logged twice at one step) starts a further row with
    /// the same step, so every record is kept. Rows follow the steps of all logs merged in order.
    private static func writeWide(_ logs: [LogSource], names: [String], smoothing: Double, _ row: ([String]) throws -> Void) throws {
        // Columns: each log's metrics in first-seen order (a streaming pass per log).
        var columns: [String] = [], columnOf: [[Metric: Int]] = []
        for (log, name) in zip(logs, names) {
            var map: [Metric: Int] = [:]
            try log.forEach { r in
                for (m, _) in r.points where map[m] == nil {
                    map[m] = columns.count
                    columns.append("\(name):\(m)" + (m.block.map { "/block\($0)" } ?? ""))
                }
            }
            columnOf.append(map)
        }
        try row(["step", "smoothing_weight"] + columns.flatMap { [$0, $0 + ":smoothed"] })
        // Merge: each log yields (step, column, value, smoothed) in its own order, a chunk at a time.
        let cursors = logs.indices.map { i in WideCursor(source: logs[i], columns: columnOf[i], smoothing: smoothing) }
        while let step = try cursors.compactMap({ try $0.peek()?.step }).min() {
            var cells = [String](repeating: "", count: 2 * columns.count)
            var filled = Set<Int>()
            for c in cursors {
                while let p = try c.peek(), p.step == step, !filled.contains(p.column) {
                    filled.insert(p.column)
                    cells[2 * p.column] = number(p.value); cells[2 * p.column + 1] = number(p.smoothed)
                    c.advance()
                }
            }
            try row([String(step), number(smoothing)] + cells)
        }
    }
}

/// Smoothing state per curve of one run.
struct Curves {
    let smoothing: Double
    private var ema: [Metric: Smoothing.EMA] = [:]
    init(smoothing: Double) { self.smoothing = smoothing }
    mutating func smooth(_ m: Metric, _ v: Double) -> (value: Double, smoothed: Double) {
        var e = ema[m] ?? Smoothing.EMA(weight: smoothing)
        let s = e.next(v)
        ema[m] = e
        return (v, s)
    }
}

/// The wide layout's view of one log: its values in order, a chunk of the log at a time.
final class WideCursor {
    struct Item { let step: Int, column: Int, value: Double, smoothed: Double }
    private let next: () throws -> [RunRecord]?
    private let columns: [Metric: Int]
    private var curves: Curves
    private var buffer: [Item] = [], index = 0

    init(source: CSVExport.LogSource, columns: [Metric: Int], smoothing: Double) {
        next = source.pass(); self.columns = columns; curves = Curves(smoothing: smoothing)
    }

    func peek() throws -> Item? {
        while index >= buffer.count {
            guard let chunk = try next() else { return nil }
            buffer = []; index = 0
            for r in chunk {
                for (m, p) in r.points {
                    let (v, s) = curves.smooth(m, p.value)
                    buffer.append(Item(step: p.step, column: columns[m]!, value: v, smoothed: s))
                }
            }
        }
        return buffer[index]
    }

    func advance() { index += 1 }
}
