/// Checks of every option a user sets, in one place for `spt`, `spt-tui` and the engine itself:
/// a value outside its range is refused with the flag's name before it sizes anything.
public enum OptionCheck {
    /// Worker threads the engine accepts.
    public static let threads = 1...64
    /// Prompt tokens per set: VPT's largest published setting is 200.
    public static let prompts = 0...1024

    /// Throws `--flag value: rule` unless `ok`.
    public static func require(_ ok: Bool, _ flag: String, _ value: Any, _ rule: String) throws {
        if !ok { throw EngineError.invalidArgument("--\(flag) \(value): \(rule)") }
    }

    public static func positive(_ flag: String, _ v: Int) throws { try require(v >= 1, flag, v, "must be at least 1") }
    public static func positive(_ flag: String, _ v: Float) throws { try require(v.isFinite && v > 0, flag, v, "must be a positive number") }
    public static func threadCount(_ v: Int) throws { try require(threads.contains(v), "threads", v, "must be in \(threads)") }
    public static func pooling(_ p: Pooling?, config c: ViTConfig) throws {
        try require(p != .cls || c.classToken, "pooling", "cls", "needs a class token, and this backbone has none (use mean)")
    }
}

extension TrainOptions {
    /// Throws for options no run can have, naming the flag.
    public func validate() throws {
        try OptionCheck.positive("epochs", epochs)
        try OptionCheck.positive("batch", batch)
        try OptionCheck.require(OptionCheck.prompts.contains(prompts.count), "prompts", prompts.count, "must be in \(OptionCheck.prompts)")
        try OptionCheck.require(prompts.dropout.isFinite && (0..<1).contains(prompts.dropout), "prompt-dropout", prompts.dropout, "must be in [0, 1)")
        try OptionCheck.positive("lr", optimizer.lr)
        try OptionCheck.require(optimizer.weightDecay.isFinite && optimizer.weightDecay >= 0, "weight-decay", optimizer.weightDecay, "must be ≥ 0")
        try OptionCheck.threadCount(threads)
        if case .every(let n) = nmiEvery { try OptionCheck.require(n >= 0, "nmi-every", n, "must be auto or ≥ 0 (0 turns NMI off)") }
        if let k = initialization.kmeansImages { try OptionCheck.positive("kmeans-images", k) }
        if let n = initialization.initImages { try OptionCheck.positive("init-images", n) }
        try OptionCheck.require((1...100).contains(initialization.kmeansRestarts), "kmeans-restarts", initialization.kmeansRestarts, "must be in 1...100")
        try OptionCheck.positive("probe-images", probeImages)
        try OptionCheck.require(warmupEpochs >= 0, "warmup-epochs", warmupEpochs, "must be ≥ 0")
    }

    /// `validate()`, plus what depends on the backbone and the task: the batch fits the training
    /// images, and a prototype strategy has at least as many candidate tokens as prompts.
    public func validate(config c: ViTConfig, trainImages: Int) throws {
        try validate()
        try OptionCheck.require(batch <= trainImages, "batch", batch, "is more than the task's \(trainImages) training images")
        try OptionCheck.pooling(pooling, config: c)
        let s = initialization.strategy
        guard s.usesCandidates, prompts.count > 0 else { return }
        let gathered = min(initialization.kmeansImages ?? trainImages, trainImages)
        let images = s == .kmeans ? gathered : initialization.drawnImages(gathered: gathered)
        let tokens = images * c.numPatches
        try OptionCheck.require(prompts.count <= tokens, "prompts", prompts.count,
                                "\(s.rawValue) draws prompts from \(tokens) tokens (\(images) images × \(c.numPatches) patches); use at most \(tokens)")
        if s == .meanPool || s == .maxPool, initialization.poolVariant == .authors {
            try OptionCheck.require(prompts.count - 1 <= c.numPatches, "prompts", prompts.count,
                                    "the authors' pooling cuts each image's \(c.numPatches) patches into prompts − 1 windows; use at most \(c.numPatches + 1)")
        }
    }
}

extension PretrainOptions {
    public func validate() throws {
        try config.validate()
        try OptionCheck.positive("epochs", epochs)
        try OptionCheck.positive("batch", batch)
        try OptionCheck.positive("lr", lr)
        try OptionCheck.require(mae.maskRatio.isFinite && mae.maskRatio > 0 && mae.maskRatio < 1, "mask-ratio", mae.maskRatio, "must be in (0, 1)")
    }
}
