import Foundation

/// A named curve of a run.
public enum Metric: Hashable, Sendable, CustomStringConvertible {
    case trainLoss, learningRate, gradNorm, throughput
    case loss(split: String)
    case accuracy(split: String)
    case nmi(block: Int)
    case nmiMean
    /// The prompts' attention share from the class token's query or the patch tokens' (`from`
    /// "cls" or "patches"), per block, or its mean over blocks (`block` nil).
    case attention(from: String, block: Int?)
    /// The median over prompts of the distance to the nearest probe patch token (in the tokens'
    /// spread), per block, or its mean over blocks (`block` nil); from `map` records.
    case nearest(block: Int?)
    /// A `scalar` record's tag.
    case scalar(String)

    /// The name used in CSV files and on screen. The train split's eval loss is the epoch's,
    /// named apart from the step's `train/loss`.
    public var description: String {
        switch self {
        case .trainLoss: "train/loss"
        case .learningRate: "train/lr"
        case .gradNorm: "train/grad_norm"
        case .throughput: "train/img_per_s"
        case .loss(split: "train"): "train/epoch_loss"
        case .loss(let s): "\(s)/loss"
        case .accuracy(let s): "\(s)/acc"
        case .nmi: "nmi"
        case .nmiMean: "nmi/mean"
        case .attention(let from, let block): block == nil ? "attention/\(from)/mean" : "attention/\(from)"
        case .nearest(let block): block == nil ? "nearest/mean" : "nearest"
        case .scalar(let tag): tag
        }
    }

    /// The block of a per-block value (the CSV's block column).
    public var block: Int? {
        switch self {
        case .nmi(let b): b
        case .attention(_, let b): b
        case .nearest(let b): b
        default: nil
        }
    }
}

/// One value of a curve with every x-axis it can be drawn against.
public struct SeriesPoint: Equatable, Sendable {
    public var step: Int
    public var epoch: Double
    public var time: Double
    public var value: Double
    public init(step: Int, epoch: Double, time: Double, value: Double) {
        self.step = step; self.epoch = epoch; self.time = time; self.value = value
    }
}

extension RunRecord {
    /// The values this record holds, one per metric, in a fixed order; a field the writer left out gives none.
    public var points: [(metric: Metric, point: SeriesPoint)] {
        switch self {
        case .train(let t):
            let p = SeriesPoint(step: t.step, epoch: t.epoch, time: t.time, value: 0)
            return [(.trainLoss, t.loss), (.learningRate, t.lr), (.gradNorm, t.gradNorm), (.throughput, t.imagesPerSecond)]
                .compactMap { m, v in v.map { var q = p; q.value = $0; return (m, q) } }
        case .eval(let e):
            let p = SeriesPoint(step: e.step, epoch: e.epoch, time: e.time, value: 0)
            return [(.loss(split: e.split), e.loss), (.accuracy(split: e.split), e.accuracy)]
                .compactMap { m, v in v.map { var q = p; q.value = $0; return (m, q) } }
        case .nmi(let n):
            guard !n.values.isEmpty else { return [] }
            let p = SeriesPoint(step: n.step, epoch: n.epoch, time: n.time, value: 0)
            let mean = n.values.reduce(0, +) / Double(n.values.count)
            return (n.values.enumerated().map { (Metric.nmi(block: $0.offset), $0.element) } + [(.nmiMean, mean)])
                .map { m, v in var q = p; q.value = v; return (m, q) }
        case .attention(let a):
            let p = SeriesPoint(step: a.step, epoch: a.epoch, time: a.time, value: 0)
            return [("cls", a.cls), ("patches", a.patches)].flatMap { from, values -> [(metric: Metric, point: SeriesPoint)] in
                guard let values, !values.isEmpty else { return [] }
                let mean = values.reduce(0, +) / Double(values.count)
                return (values.enumerated().map { (Metric.attention(from: from, block: $0.offset), $0.element) } + [(.attention(from: from, block: nil), mean)])
                    .map { m, v in var q = p; q.value = v; return (m, q) }
            }
        case .map(let r):
            let medians = r.nearest.compactMap(MapRecord.median)
            guard !medians.isEmpty, medians.count == r.nearest.count else { return [] }
            let p = SeriesPoint(step: r.step, epoch: r.epoch, time: r.time, value: 0)
            return (medians.enumerated().map { (Metric.nearest(block: $0.offset), $0.element) } + [(.nearest(block: nil), medians.reduce(0, +) / Double(medians.count))])
                .map { m, v in var q = p; q.value = v; return (m, q) }
        case .scalar(let r):
            // Scalars carry no epoch of their own.
            return [(.scalar(r.tag), SeriesPoint(step: r.step, epoch: .nan, time: r.time, value: r.value))]
        case .header, .initialization, .segment, .event, .projection:
            return []
        }
    }
}

extension MapRecord {
    /// A block's row of coordinates (x, y, x, y, …) as points.
    public static func points(_ row: [Double]) -> [(x: Double, y: Double)] {
        stride(from: 0, to: row.count - 1, by: 2).map { (row[$0], row[$0 + 1]) }
    }

    /// The median of a block's values (the mean of the middle two for an even count); nil when empty.
    public static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}

extension RunLog {
    /// A short label for the run: its id from the header, else the file name.
    public var runName: String { header?.run ?? ((path as NSString).lastPathComponent as String) }
}
