import Foundation
import ArgumentParser
import SPTEngine
import SPTRuns

/// The options of a training run, declared once for `spt train`, `spt compare` and `spt-tui`.
public struct RunFlags: ParsableArguments {
    public init() {}
    /// Every default below is the engine's (`TrainOptions`, `Defaults`): declared there once.
    private static let d = TrainOptions()
    @Option(help: "Task: a built-in name (see `spt tasks`) or a data directory.") public var task = d.task
    @Option(help: "Backbone: a built-in name (see `spt backbones`), a .safetensors file or a hub folder (model.safetensors + config.json).") public var backbone = d.backbone
    @OptionGroup public var input: InputFlags
    @Option(help: "Prompt tokens per set (0: linear probe).") public var prompts = d.prompts.count
    @Flag(help: "Deep prompts (a set before every block) instead of shallow.") public var deep = false
    @Option(help: "Prompt dropout at every insertion.") public var promptDropout = d.prompts.dropout
    @Option(help: "prompt, linear or full.") public var mode = d.mode
    @Option(help: "Head input: cls or mean (default: the backbone's).") public var pooling: Pooling?
    @Option(help: "adamw or sgd.") public var optimizer = d.optimizer.kind
    @Option(help: "Peak learning rate (default: the tuned default for the backbone and strategy).") public var lr: Float?
    @Option(help: "Weight decay (default: the tuned default).") public var weightDecay: Float?
    @Option(help: "Epochs (default: \(d.epochs); \(Recipe.vptEpochs) under --recipe vpt).") public var epochs: Int?
    @Option(help: "engine (the defaults above; default) or vpt: VPT's recipe — SGD with momentum 0.9, --lr a base rate scaled by batch/256, 100 epochs with 10 of warmup, the schedule stepped per epoch.")
    var recipe: Recipe?
    /// `--recipe`'s old spelling, kept for one release (it read like the evaluation protocol).
    @Option(name: .customLong("protocol"), help: .hidden) var deprecatedRecipe: Recipe?
    /// The recipe either spelling chose.
    public var chosenRecipe: Recipe { recipe ?? deprecatedRecipe ?? .engine }
    @Option(help: "Batch size.") public var batch = d.batch
    @Option(help: "Seed of initialization, head, data order and augmentation.") public var seed = d.seed
    @Option(help: "Seed of the VTAB-1k draw of 1000 training images (800 train + 200 val); tasks with a published division ignore it.") public var splitSeed = d.splitSeed
    @Option(help: "Worker threads.") public var threads = d.threads
    @Option(help: "tune (train 800, eval on val 200) or final (train 1000, eval on test).") public var evalProtocol = d.evalProtocol
    @Option(help: "How mean-pool, max-pool and sample draw images and cut tokens: authors (the SPT authors' prompt_generator) or batch-windows (docs/METHOD.md §3.3).")
    public var poolVariant = d.initialization.poolVariant
    @Option(help: "Images mean-pool, max-pool and sample draw: all (default under authors: as many draws, with replacement, as training images) or a count (default 32 under batch-windows).")
    public var initImages: ImageCount = ImageCount()
    @Option(help: "Gather tokens from the first N training images only (K-means clusters them, pooling and sampling draw from them; default: all).") public var kmeansImages: Int?
    @Option(help: "K-means runs from this many seedings, the lowest inertia kept (scikit-learn's n_init).") public var kmeansRestarts = d.initialization.kmeansRestarts
    @Option(help: "NMI every N steps (0: off), or auto: the smallest multiple of 5 keeping the probe within 5% of training time, timed before the run.")
    public var nmiEvery = d.nmiEvery
    @Option(help: "At most N prompt maps per run, at evenly spread NMI probes and every initialization (0: none; docs/METHOD.md §4.4).") public var maps = d.maps
    @Option(help: "NMI scores: tokens or attention.") public var nmiMode = d.nmiMode
    @Option(help: "NMI normalization: sqrt or arithmetic.") public var nmiNormalization = d.nmiNormalization
    @Flag(help: "Random flip and shift augmentation.") public var augment = false
    @Option(help: "Directory of run logs (runs/<session>/<run>.jsonl).") public var runsDir = RunDirectory.defaultRoot
    @Option(help: "fp32, bf16 (autocast's recipe for the backbone's products: AVX512-BF16 or AMX through oneDNN; under --mode full the fp32 weights train) or auto (bf16 where the CPU has it).")
    public var precision = d.precision

    /// Which precision runs use, and why (`auto` says what it chose).
    public var precisionLine: String { (try? precision.resolved().1) ?? precision.rawValue }

    /// The backbone and the task's source data, as every executable loads them.
    public func load() throws -> (backbone: Backbone, source: DataSplits) {
        let b = try input.backbone(backbone)
        return (b, try b.loadTask(task))
    }

    /// Refuses values no run can have before anything is loaded.
    public func validate() throws {
        if let old = deprecatedRecipe {
            if let new = recipe, new != old { throw ValidationError("--protocol \(old.rawValue) and --recipe \(new.rawValue) disagree; --protocol is --recipe's old name") }
            FileHandle.standardError.write(Data("warning: --protocol is now --recipe (the old name goes in the next release)\n".utf8))
        }
        _ = try precision.resolved()
        try trainOptions(strategy: .random, backbone: nil).validate()
    }

    /// The options the flags set; lr and weight decay default to the backbone's tuned values
    /// for the strategy (a placeholder without a backbone, for `validate`).
    public func trainOptions(strategy: InitStrategy, backbone b: Backbone?) -> TrainOptions {
        var o = TrainOptions()
        o.task = task; o.backbone = backbone; o.initialization = InitOptions(strategy: strategy)
        o.initialization.poolVariant = poolVariant; o.initialization.kmeansImages = kmeansImages
        o.initialization.initImages = initImages.count; o.initialization.kmeansRestarts = kmeansRestarts
        o.prompts = PromptSpec(count: mode == .prompt ? prompts : 0, deep: deep, dropout: promptDropout)
        o.mode = mode; o.pooling = pooling
        o.optimizer = OptimizerConfig(kind: optimizer, lr: lr ?? o.optimizer.lr, weightDecay: weightDecay ?? o.optimizer.weightDecay)
        if let b { Defaults.apply(&o, backbone: b, lr: lr, weightDecay: weightDecay) }
        if let epochs { o.epochs = epochs }
        if chosenRecipe == .vpt {
            // VPT's recipe; its grid's middle where no rate is given (spt compare --tune searches the grid).
            o.recipe = .vpt
            o.optimizer = OptimizerConfig(kind: .sgd, lr: Recipe.vptScaled(lr ?? 1, batch: batch), weightDecay: weightDecay ?? 1e-3)
            o.epochs = epochs ?? Recipe.vptEpochs
            o.warmupEpochs = Recipe.vptWarmupEpochs
        }
        o.precision = (try? precision.resolved().0) ?? .fp32
        o.batch = batch; o.seed = seed; o.splitSeed = splitSeed; o.threads = threads; o.evalProtocol = evalProtocol
        o.nmiEvery = nmiEvery; o.maps = maps; o.nmiMode = nmiMode; o.nmiNormalization = nmiNormalization; o.augment = augment
        return o
    }
}

extension TuningMode: ExpressibleByArgument {}
extension Pooling: ExpressibleByArgument {}
extension OptimizerConfig.Kind: ExpressibleByArgument {}
extension TaskData.EvalProtocol: ExpressibleByArgument {}
extension InitStrategy: ExpressibleByArgument {}
extension InitStrategy.PoolVariant: ExpressibleByArgument {}

/// `all` or a positive count of images.
public struct ImageCount: ExpressibleByArgument, Sendable {
    /// nil: all.
    public var count: Int?
    public init(_ count: Int? = nil) { self.count = count }
    public init?(argument: String) {
        if argument == "all" { count = nil } else if let n = Int(argument) { count = n } else { return nil }
    }
    public var defaultValueDescription: String { count.map(String.init) ?? "all" }
}
extension NMI.Mode: ExpressibleByArgument {}
extension NMICadence: ExpressibleByArgument {}
extension NMI.Normalization: ExpressibleByArgument {}
extension Recipe: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
