import Foundation

/// Run logs as TensorBoard event files: one directory per run under `out`, holding one
/// `events.out.tfevents.*` file. Scalars for TensorBoard's own views (`train/loss`, `train/lr`,
/// `train/grad_norm`, `train/img_per_s`, `<split>/loss` (`train/epoch_loss`), `<split>/accuracy`, `nmi/block_<i>`,
/// `nmi/mean`, `attention/<cls|patches>/block_<i>` and `/mean`, every `scalar` record's tag) and the strategy as text at step 0 and at each
/// segment; every record also goes in verbatim as an `spt/record` text, so that the files read
/// back as the logs they came from. Names come from logs anyone may have written: they are
/// sanitized before they become directory names, and nothing is written outside `out`.
public enum TensorBoardExport {
    /// Writes every log under `paths` into `out`, a new or empty directory (the output rule:
    /// refused when it is a file, not empty, an input or inside one; built whole in a staging
    /// directory). Returns the directories written and the issues met reading.
    @discardableResult
    public static func export(paths: [String], to out: String, now: Date = Date()) throws -> (runs: [String], issues: [String]) {
        var logs: [String] = []
        for p in paths { logs += try RunDirectory.logFiles(at: p) }
        guard !logs.isEmpty else {
            throw RunLogError.io(path: paths.joined(separator: ", "), message: "no run logs (.jsonl files, TensorBoard event directories or W&B run files) to export")
        }
        let read = try logs.map { try RunDirectory.read($0) }
        let names = RunDirectory.safeNames(RunDirectory.distinctNames(read.map(\.runName), paths: logs))
        var issues: [String] = []
        // The output rule: `out` new or empty, built whole in a staging directory.
        try SafeOutput.directory(out, inputs: paths + logs) { staging in
            for (log, name) in zip(read, names) {
                issues += log.issues.map { "\(log.path): \($0)" }
                let dir = (staging as NSString).appendingPathComponent(name)
                try SafeOutput.makeDirectories(dir)
                let file = (dir as NSString).appendingPathComponent("\(TensorBoardReader.filePrefix)\(Int(now.timeIntervalSince1970)).spt")
                try SafeOutput.writeBytes(to: file) { emit in
                    let start = log.header.flatMap { ISO8601DateFormatter().date(from: $0.created) }?.timeIntervalSince1970 ?? now.timeIntervalSince1970
                    try emit(TFRecord.frame(TensorBoardEvent(wallTime: start, step: 0, fileVersion: "brain.Event:2").encoded()))
                    for r in log.records {
                        try emit(TFRecord.frame(TensorBoardEvent(wallTime: start + (r.time ?? 0), step: r.step, values: values(r)).encoded()))
                    }
                }
            }
        }
        let dirs = names.map { (out as NSString).appendingPathComponent($0) }
        return (dirs, issues)
    }

    /// A record's summary values.
    static func values(_ r: RunRecord) -> [(tag: String, value: TensorBoardEvent.Value)] {
        var out: [(tag: String, value: TensorBoardEvent.Value)] = []
        switch r {
        case .header(let h): out.append(("strategy", .text(h.strategy)))
        case .segment(let s): out.append(("strategy", .text(s.strategy)))
        case .train, .eval, .nmi, .attention, .map, .scalar:
            out = r.points.map { m, p in (tag(m), .scalar(p.value)) }
        case .initialization, .event, .projection: break
        }
        if let line = try? r.encodedLine() { out.append(("spt/record", .text(String(decoding: line, as: UTF8.self)))) }
        return out
    }

    /// TensorBoard's names: the CSV's, but `<split>/accuracy` rather than `<split>/acc`, and a
    /// block's NMI as `nmi/block_<i>` (the CSV has a block column).
    public static func tag(_ m: Metric) -> String {
        switch m {
        case .accuracy(let split): "\(split)/accuracy"
        case .nmi(let b): "nmi/block_\(b)"
        case .attention(let from, let b?): "attention/\(from)/block_\(b)"
        case .nearest(let b?): "nearest/block_\(b)"
        default: m.description
        }
    }
}
