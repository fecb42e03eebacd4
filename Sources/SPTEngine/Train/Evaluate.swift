/// Mean cross-entropy and top-1 accuracy of a classifier over a whole data set (no augmentation),
/// in inference passes whose batch follows the memory they need (`Workspaces.inferenceBatch`).
public func evaluate(_ model: ViTClassifier, on data: Dataset, batcher: Batcher, batch: Int? = nil,
                     withPrompts: Bool = true, progress: (Int, Int) -> Void = { _, _ in }) -> (loss: Double, accuracy: Double) {
    let c = model.config
    let batch = batch ?? Workspaces.inferenceBatch(c, T: c.tokens(prompts: withPrompts ? model.prompts.count : 0))
    let input = Buffer([batch, c.channels, c.imageSize, c.imageSize])
    var correct = 0, loss = 0.0, rng = RNG(seed: 0)
    var i = 0
    progress(0, data.count)
    while i < data.count {
        let n = min(batch, data.count - i)
        batcher.fill(input.ptr, from: data, indices: Array(i..<(i + n))[...], rng: &rng)
        let labels = Array(data.labels[i..<(i + n)])
        loss += Double(model.forward(images: input.ptr, B: n, labels: labels, withPrompts: withPrompts, inference: true, rng: &rng)!) * Double(n)
        correct += countCorrect(model.logits.ptr, labels, K: model.numClasses)
        i += n
        progress(i, data.count)
    }
    let n = Double(max(1, data.count))
    return (loss / n, Double(correct) / n)
}

/// How many rows of logits [labels.count, K] have their maximum at the label.
public func countCorrect(_ logits: FPtr, _ labels: [Int32], K: Int) -> Int {
    var correct = 0
    for (b, y) in labels.enumerated() {
        var best = 0
        for k in 1..<K where logits[b * K + k] > logits[b * K + best] { best = k }
        if best == Int(y) { correct += 1 }
    }
    return correct
}
