import Foundation

/// How metrics that other tools log (TensorBoard tags, W&B history keys) become run-log records,
/// one convention for both (docs/guide.md, "Logs of other tools"): `loss`/`train/loss` with
/// `lr`, `grad_norm`, `epoch` make a `train` record; `accuracy`/`<split>/accuracy` with
/// `<split>/loss` make `eval` records; `nmi/block_<i>` (blocks 0…n−1) make an `nmi` record; a
/// `strategy` text different from the current one starts a segment; every other number becomes
/// a `scalar` record with its name as the tag.
public enum MetricConvention {
    /// The records of one step's values. `order` lists the scalar names in the order to keep;
    /// `strategy` is the run's current strategy, updated by a `strategy` text; `source` names
    /// the tool in a segment's reason.
    public static func records(step: Int, time: Double, scalars: [String: Double], order: [String], texts: [String: String],
                               strategy: inout String?, source: String) -> [RunRecord] {
        var out: [RunRecord] = []
        if let s = texts["strategy"], s != strategy {
            strategy = s
            out.append(.segment(SegmentRecord(step: step, time: time, strategy: s, reason: "\(source) text")))
        }
        var used = Set<String>()
        func value(_ names: [String]) -> Double? {
            for n in names { if let v = scalars[n] { used.insert(n); return v } }
            return nil
        }
        let epoch = value(["epoch", "train/epoch"]) ?? .nan
        if let loss = value(["loss", "train/loss", "train_loss", "loss/train", "Loss/train"]) {
            out.append(.train(TrainRecord(step: step, epoch: epoch, time: time, loss: loss,
                                          lr: value(["lr", "train/lr", "learning_rate", "train/learning_rate"]),
                                          gradNorm: value(["grad_norm", "train/grad_norm"]),
                                          imagesPerSecond: value(["train/img_per_s", "images_per_second"]))))
        }
        for (split, names) in splits {
            let acc = value(names.flatMap { ["\($0)/accuracy", "\($0)/acc", "accuracy/\($0)", "Accuracy/\($0)"] } + (split == "val" ? ["accuracy", "acc"] : []))
            guard let acc else { continue }
            // The train split's `train/loss` is the step's (above); its epoch loss is `train/epoch_loss`.
            let loss = split == "train" ? value(["train/epoch_loss"]) : value(names.flatMap { ["\($0)/loss", "loss/\($0)", "Loss/\($0)"] })
            out.append(.eval(EvalRecord(step: step, epoch: epoch, time: time, split: split, loss: loss, accuracy: acc)))
        }
        let blocks = order.compactMap { t -> (Int, Double)? in
            guard t.hasPrefix("nmi/block_"), let b = Int(t.dropFirst("nmi/block_".count)), b >= 0, let v = scalars[t] else { return nil }
            return (b, v)
        }.sorted { $0.0 < $1.0 }
        if !blocks.isEmpty, blocks.map(\.0) == Array(0..<blocks.count) {
            blocks.forEach { used.insert("nmi/block_\($0.0)") }
            used.insert("nmi/mean")  // derived from the blocks
            out.append(.nmi(NMIRecord(step: step, epoch: epoch, time: time, values: blocks.map(\.1),
                                      mode: texts["nmi_mode"] ?? "?", normalization: texts["nmi_normalization"] ?? "?")))
        }
        out += order.filter { !used.contains($0) }.compactMap { t in scalars[t].map { .scalar(ScalarRecord(step: step, time: time, tag: t, value: $0)) } }
        return out
    }

    /// Eval splits and the name prefixes that name them.
    static let splits: [(String, [String])] = [("train", ["train"]), ("val", ["val", "eval", "validation", "valid"]), ("test", ["test"])]

    /// The header of a run another tool wrote: what is known (name, start, strategy) and "?" or 0
    /// for what such logs do not carry.
    static func header(run: String, session: String, created: Double, engine: String, strategy: String?) -> RunHeader {
        RunHeader(run: run, session: session, created: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: created)), engine: engine,
                  task: "?", backbone: "?", strategy: strategy ?? "?", deep: false, prompts: 0, optimizer: "?", lr: .nan, weightDecay: .nan,
                  epochs: 0, batch: 0, seed: 0, threads: 0, params: ["source": engine])
    }
}
