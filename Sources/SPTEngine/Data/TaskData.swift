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
    /// The training images' indices in the source's training split, in training order.
    public let selection: [Int]

    /// A run's task: its protocol and split seed.
    public init(source: DataSplits, options o: TrainOptions) {
        self.init(source: source, protocol: o.evalProtocol, seed: o.splitSeed)
    }

    public init(source: DataSplits, protocol p: EvalProtocol, seed: UInt64 = 0, trainSize: Int = 1000, valSize: Int = 200) {
        name = source.train.name
        classes = source.train.classes
        splitSeed = source.given == nil ? seed : nil
        let trainPick: [Int], valPick: [Int]
        if let given = source.given {
            // A published division (VTAB-1k lists, FGVC JSON) is used as given.
            (trainPick, valPick) = (given.train, given.val)
        } else {
            var rng = RNG(seed: seed ^ 0x7AB1)
            let picked = Array(rng.permutation(source.train.count).prefix(trainSize))
            let nVal = min(valSize, picked.count / 5)
            (trainPick, valPick) = (Array(picked.dropLast(nVal)), Array(picked.suffix(nVal)))
        }
        switch p {
        case .tune:
            selection = trainPick
            (train, eval, evalSplit) = (source.train.subset(trainPick), source.train.subset(valPick), "val")
        case .final:
            selection = source.given == nil ? trainPick + valPick : Array(0..<source.train.count)
            // All of a published training split: the source's own images, not a copy.
            (train, eval, evalSplit) = (source.given == nil ? source.train.subset(selection) : source.train, source.test, "test")
        }
    }

    /// FNV-1a of the training images' indices in the source, hex: two runs with the same value
    /// trained on the same images (recorded in the run header).
    public var selectionHash: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in selection { withUnsafeBytes(of: UInt64(i).littleEndian) { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } } }
        return String(h, radix: 16)
    }

    /// Bytes of the images this task holds (the eval split may be shared with its source).
    public var bytes: Int { 4 * (train.images.count + eval.images.count) }
}
