/// Everything that determines one prompt-tuning run; written to the run log's header.
public struct TrainOptions: Codable, Equatable, Sendable {
    public var task = "fashion-mnist"
    public var backbone = "mae-tiny"
    public var initialization = InitOptions(strategy: .random)
    public var prompts = PromptSpec(count: 10)
    public var mode = TuningMode.prompt
    /// nil: the backbone's own (mean for MAE, CLS for supervised).
    public var pooling: Pooling?
    /// The rates without a backbone; a run takes its backbone's (`Defaults.apply`).
    public var optimizer = OptimizerConfig(kind: .adamw, lr: Defaults.hyperparameters(backboneHash: nil, strategy: .random, mode: .prompt).lr,
                                           weightDecay: Defaults.hyperparameters(backboneHash: nil, strategy: .random, mode: .prompt).weightDecay)
    public var warmupEpochs = 1
    /// `vpt`: VPT's published recipe (SGD, momentum 0.9, 10 warmup epochs, the schedule stepped per epoch).
    public var recipe = Recipe.engine
    /// The backbone's products (resolved: fp32 or bf16).
    public var precision = Precision.fp32
    public var epochs = 10
    public var batch = 32
    public var seed: UInt64 = 0
    /// Seed of the VTAB-1k draw of training images; the same for every run of a comparison, so
    /// that seeds vary the run, not the data.
    public var splitSeed: UInt64 = 0
    public var threads = 2
    public var evalProtocol = TaskData.EvalProtocol.tune
    /// Measure NMI every this many steps (and at step 0); 0 turns it off; `auto` keeps the probe
    /// within 5% of training time.
    public var nmiEvery = NMICadence.auto
    public var nmiMode = NMI.Mode.tokens
    public var nmiNormalization = NMI.Normalization.sqrt
    /// At most this many prompt maps per run (docs/METHOD.md §4.4), drawn at evenly spread NMI
    /// probes, the last one included, and at every initialization; 0 turns them off.
    public var maps = 16
    /// Fixed probe batch: the first this many training images.
    public var probeImages = 32
    public var augment = false

    public init() {}
}

/// A training recipe: the engine's defaults, or VPT's published one (`--recipe vpt`).
public enum Recipe: String, Codable, Sendable, CaseIterable {
    case engine, vpt

    /// VPT's grids: base learning rates (scaled by batch/256) and weight decays.
    public static let vptBaseLRs: [Float] = [50, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1, 0.05]
    public static let vptWeightDecays: [Float] = [0.01, 0.001, 1e-4, 0]
    public static let vptEpochs = 100, vptWarmupEpochs = 10

    /// A base learning rate of VPT's as the rate a batch of `batch` trains with.
    public static func vptScaled(_ base: Float, batch: Int) -> Float { base * Float(batch) / 256 }
}
