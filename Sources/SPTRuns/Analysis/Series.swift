import Foundation

/// A named curve of a run.
public enum Metric: Hashable, Sendable, CustomStringConvertible {
    case trainLoss, learningRate, gradNorm, throughput
    case loss(split: String)
    case accuracy(split: String)
    case nmi(block: Int)
    case nmiMean

    /// The name used in CSV files and on screen.
    public var description: String {
        switch self {
        case .trainLoss: "train/loss"
        case .learningRate: "train/lr"
        case .gradNorm: "train/grad_norm"
        case .throughput: "train/img_per_s"
        case .loss(let s): "\(s)/loss"
        case .accuracy(let s): "\(s)/acc"
        case .nmi: "nmi"
        case .nmiMean: "nmi/mean"
        }
    }

    public var block: Int? { if case .nmi(let b) = self { b } else { nil } }
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

extension RunLog {
    /// The metrics this log holds, in a stable order.
    public var metrics: [Metric] {
        var out: [Metric] = [], seen = Set<Metric>()
        func add(_ m: Metric) { if seen.insert(m).inserted { out.append(m) } }
        for r in records {
            switch r {
            case .train: [.trainLoss, .learningRate, .gradNorm, .throughput].forEach(add)
            case .eval(let e): add(.loss(split: e.split)); add(.accuracy(split: e.split))
            case .nmi(let n): n.values.indices.forEach { add(.nmi(block: $0)) }; add(.nmiMean)
            default: break
            }
        }
        return out
    }

    /// The points of one metric, in log order.
    public func series(_ metric: Metric) -> [SeriesPoint] {
        records.compactMap { r in
            switch (metric, r) {
            case (.trainLoss, .train(let t)): SeriesPoint(step: t.step, epoch: t.epoch, time: t.time, value: t.loss)
            case (.learningRate, .train(let t)): SeriesPoint(step: t.step, epoch: t.epoch, time: t.time, value: t.lr)
            case (.gradNorm, .train(let t)): SeriesPoint(step: t.step, epoch: t.epoch, time: t.time, value: t.gradNorm)
            case (.throughput, .train(let t)): SeriesPoint(step: t.step, epoch: t.epoch, time: t.time, value: t.imagesPerSecond)
            case (.loss(let s), .eval(let e)) where e.split == s: SeriesPoint(step: e.step, epoch: e.epoch, time: e.time, value: e.loss)
            case (.accuracy(let s), .eval(let e)) where e.split == s: SeriesPoint(step: e.step, epoch: e.epoch, time: e.time, value: e.accuracy)
            case (.nmi(let b), .nmi(let n)) where b < n.values.count: SeriesPoint(step: n.step, epoch: n.epoch, time: n.time, value: n.values[b])
            case (.nmiMean, .nmi(let n)) where !n.values.isEmpty:
                SeriesPoint(step: n.step, epoch: n.epoch, time: n.time, value: n.values.reduce(0, +) / Double(n.values.count))
            default: nil
            }
        }
    }

    /// Strategy switches: (first step, strategy) for segment 0, 1, ….
    public var segments: [(step: Int, strategy: String)] {
        var out = [(0, header?.strategy ?? "?")]
        for r in records { if case .segment(let s) = r { out.append((s.step, s.strategy)) } }
        return out
    }

    /// Index of the segment a step belongs to, given `segments` computed once by the caller.
    public static func segment(at step: Int, in segments: [(step: Int, strategy: String)]) -> Int {
        var k = 0
        for (i, s) in segments.enumerated() where i > 0 && s.step <= step { k = i }
        return k
    }

    /// A short label for the run: its id from the header, else the file name.
    public var runName: String { header?.run ?? ((path as NSString).lastPathComponent as String) }
}
