import Foundation

/// CSV export of whole sessions: every run and every metric in one file, raw and smoothed, with
/// the smoothing weight written into the file.
public enum CSVExport {
    public enum Layout: String, CaseIterable, Sendable { case tidy, wide }

    /// RFC 4180 field quoting.
    public static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return String(v)
    }

    /// The CSV text. Rows end with CRLF, as RFC 4180 specifies.
    /// Runs are named as the dashboard names them: distinct even where logs share a run id.
    public static func render(_ logs: [RunLog], layout: Layout, smoothing: Double) -> String {
        let names = RunDirectory.distinctNames(logs.map(\.runName), paths: logs.map(\.path))
        var rows: [[String]] = []
        switch layout {
        case .tidy:
            rows.append(["run", "strategy", "segment", "step", "epoch", "wall_time", "metric", "block", "value", "smoothed", "smoothing_weight"])
            for (log, name) in zip(logs, names) {
                let segs = log.segments
                for metric in log.metrics {
                    let pts = log.series(metric)
                    let sm = Smoothing.ema(pts.map(\.value), weight: smoothing)
                    for (p, s) in zip(pts, sm) {
                        let seg = RunLog.segment(at: p.step, in: segs)
                        rows.append([name, segs[seg].strategy, String(seg), String(p.step), number(p.epoch),
                                     number(p.time), metric.description, metric.block.map(String.init) ?? "",
                                     number(p.value), number(s), number(smoothing)])
                    }
                }
            }
        case .wide:
            var columns: [(name: String, values: [Int: (Double, Double)])] = []
            var steps = Set<Int>()
            for (log, runName) in zip(logs, names) {
                for metric in log.metrics {
                    let pts = log.series(metric)
                    let sm = Smoothing.ema(pts.map(\.value), weight: smoothing)
                    var values: [Int: (Double, Double)] = [:]
                    for (p, s) in zip(pts, sm) { values[p.step] = (p.value, s); steps.insert(p.step) }
                    let name = "\(runName):\(metric)" + (metric.block.map { "/block\($0)" } ?? "")
                    columns.append((name, values))
                }
            }
            rows.append(["step", "smoothing_weight"] + columns.flatMap { [$0.name, $0.name + ":smoothed"] })
            for step in steps.sorted() {
                rows.append([String(step), number(smoothing)] + columns.flatMap { c in
                    c.values[step].map { [number($0.0), number($0.1)] } ?? ["", ""]
                })
            }
        }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// Reads the logs a list of paths names (files or directories) and writes one CSV file.
    /// Returns the issues met while reading, so callers can report skipped lines.
    @discardableResult
    public static func export(paths: [String], to out: String, layout: Layout, smoothing: Double) throws -> [String] {
        var logs: [RunLog] = [], issues: [String] = []
        for p in paths {
            for file in try RunDirectory.logFiles(at: p) {
                let log = try RunLogReader.read(file)
                issues += log.issues.map { "\(file): \($0)" }
                logs.append(log)
            }
        }
        let text = render(logs, layout: layout, smoothing: smoothing)
        let tmp = out + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw RunLogError.io(path: out, message: "cannot write")
        }
        if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
        try FileManager.default.moveItem(atPath: tmp, toPath: out)
        return issues
    }
}
