/// A downstream task under the VTAB-1k protocol: 1000 training images drawn (seeded) from the
/// source's training split — 800 train + 200 val for tuning, all 1000 for the final run — and the
/// source's own test split, which nothing is ever selected on.
public struct TaskData: Sendable {
    public enum EvalProtocol: String, Codable, Sendable, CaseIterable {
        /// train 800, evaluate on val 200
        case tune
        /// train 1000, evaluate on test
        case final
    }
    public let name: String
    public let train: Dataset
    public let eval: Dataset
    public let evalSplit: String
    public let classes: Int
    /// The seed of the draw, or nil for a published division used as given.
    public let splitSeed: UInt64?

    /// A run's task: its protocol and split seed.
    public init(source: DataSplits, options o: TrainOptions) {
        self.init(source: source, protocol: o.evalProtocol, seed: o.splitSeed)
    }

    public init(source: DataSplits, protocol p: EvalProtocol, seed: UInt64 = 0, trainSize: Int = 1000, valSize: Int = 200) {
        name = source.train.name
        classes = source.train.classes
        splitSeed = source.given == nil ? seed : nil
        if let given = source.given {
            // A published division (VTAB-1k lists, FGVC JSON) is used as given.
            switch p {
            case .tune: (train, eval, evalSplit) = (source.train.subset(given.train), source.train.subset(given.val), "val")
            case .final: (train, eval, evalSplit) = (source.train, source.test, "test")
            }
            return
        }
        var order = Array(0..<source.train.count)
        var rng = RNG(seed: seed ^ 0x7AB1)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
        let picked = Array(order.prefix(min(trainSize, order.count)))
        let nVal = min(valSize, picked.count / 5)
        switch p {
        case .tune:
            train = source.train.subset(Array(picked.dropLast(nVal)))
            eval = source.train.subset(Array(picked.suffix(nVal)))
            evalSplit = "val"
        case .final:
            train = source.train.subset(picked)
            eval = source.test
            evalSplit = "test"
        }
    }

    /// Bytes of the images this task holds (the eval split may be shared with its source).
    public var bytes: Int { 4 * (train.images.count + eval.images.count) }
}
