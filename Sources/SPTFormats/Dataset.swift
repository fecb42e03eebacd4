/// Images as Float in [0, 1], [N, C, H, W], with integer labels. Normalization to the backbone's
/// mean/std happens when a batch is made, so one data set serves any backbone.
public struct Dataset: Sendable {
    public var name: String
    public var images: [Float]
    public var labels: [Int32]
    public var channels: Int
    public var height: Int
    public var width: Int
    public var classes: Int
    public var classNames: [String]

    public init(name: String, images: [Float], labels: [Int32], channels: Int, height: Int, width: Int,
                classes: Int, classNames: [String]? = nil) {
        self.name = name; self.images = images; self.labels = labels; self.channels = channels
        self.height = height; self.width = width; self.classes = classes
        self.classNames = classNames ?? (0..<classes).map(String.init)
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        var imgs = [Float](); imgs.reserveCapacity(indices.count * imageSize)
        for i in indices { imgs.append(contentsOf: images[(i * imageSize)..<((i + 1) * imageSize)]) }
        return Dataset(name: name ?? self.name, images: imgs, labels: indices.map { labels[$0] },
                       channels: channels, height: height, width: width, classes: classes, classNames: classNames)
    }
}

/// A train/test pair as a source provides it.
public struct DataSplits: Sendable {
    public var train: Dataset
    public var test: Dataset
    /// A published train/val division of `train` (VTAB-1k's train800/val200, FGVC's train/val),
    /// as indices into it; sources without one are split by seed.
    public var given: (train: [Int], val: [Int])?
    public init(train: Dataset, test: Dataset) { self.train = train; self.test = test }
}

extension DataSplits {
    /// Every reader's result passes this before training sees it: labels index the logits, so
    /// each must lie in 0..<classes of the training split, and pixel counts must match the labels.
    public func check(source: String) throws {
        for (split, ds) in [("train", train), ("test", test)] {
            func fail(_ m: String) -> EngineError { .data(file: source, message: "\(split) split: \(m)") }
            guard ds.count > 0 else { throw fail("no images") }
            guard ds.images.count == ds.count * ds.imageSize else { throw fail("\(ds.images.count) pixel values for \(ds.count) images of \(ds.imageSize)") }
            guard ds.classes == train.classes else { throw fail("\(ds.classes) classes, the train split has \(train.classes)") }
            if let bad = ds.labels.firstIndex(where: { $0 < 0 || Int($0) >= train.classes }) {
                throw fail("label \(ds.labels[bad]) of image \(bad) is out of range 0..<\(train.classes)")
            }
        }
        if let given, let bad = (given.train + given.val).first(where: { $0 < 0 || $0 >= train.count }) {
            throw EngineError.data(file: source, message: "train/val division names image \(bad) of \(train.count)")
        }
    }
}
