import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine
import SPTRuns

/// Options shared by `spt train` and `spt compare`.
struct RunOptions: ParsableArguments {
    @Option(help: "Task: a built-in name (see `spt tasks`) or a data directory.") var task = "fashion-mnist"
    @Option(help: "Backbone: a built-in name (see `spt backbones`), a .safetensors file or a hub folder (model.safetensors + config.json).") var backbone = "mae-tiny"
    @OptionGroup var input: InputFlags
    @Option(help: "Prompt tokens per set (0: linear probe).") var prompts = 10
    @Flag(help: "Deep prompts (a set before every block) instead of shallow.") var deep = false
    @Option(help: "Prompt dropout at every insertion.") var promptDropout: Float = 0
    @Option(help: "prompt, linear or full.") var mode: TuningMode = .prompt
    @Option(help: "Head input: cls or mean (default: the backbone's).") var pooling: Pooling?
    @Option(help: "adamw or sgd.") var optimizer: OptimizerConfig.Kind = .adamw
    @Option(help: "Peak learning rate (default: the tuned default for the backbone and strategy).") var lr: Float?
    @Option(help: "Weight decay (default: the tuned default).") var weightDecay: Float?
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "tune (train 800, eval on val 200) or final (train 1000, eval on test).") var evalProtocol: TaskData.EvalProtocol = .tune
    @Option(help: "Mean/max pooling variant: batch-windows (paper) or per-image (public code).") var poolVariant: InitStrategy.PoolVariant = .batchWindows
    @Option(help: "Gather tokens from the first N training images only (K-means clusters them, pooling and sampling draw from them; default: all).") var kmeansImages: Int?
    @Option(help: "NMI every N steps (0: off).") var nmiEvery = 5
    @Option(help: "NMI scores: tokens or attention.") var nmiMode: NMI.Mode = .tokens
    @Option(help: "NMI normalization: sqrt or arithmetic.") var nmiNormalization: NMI.Normalization = .sqrt
    @Flag(help: "Random flip and shift augmentation.") var augment = false
    @Option(help: "Directory of run logs (runs/<session>/<run>.jsonl).") var runsDir = RunDirectory.defaultRoot

    /// Refuses values no run can have before anything is loaded.
    func validate() throws {
        try trainOptions(strategy: .random, backbone: nil).validate()
    }

    /// The options the flags set; lr and weight decay default to the backbone's tuned values
    /// (a placeholder without a backbone, for `validate`).
    func trainOptions(strategy: InitStrategy, backbone b: Backbone?) -> TrainOptions {
        var o = TrainOptions()
        o.task = task; o.backbone = backbone; o.initialization = InitOptions(strategy: strategy)
        o.initialization.poolVariant = poolVariant; o.initialization.kmeansImages = kmeansImages
        o.prompts = PromptSpec(count: mode == .prompt ? prompts : 0, deep: deep, dropout: promptDropout)
        o.mode = mode; o.pooling = pooling
        let d = b.map { Defaults.hyperparameters(backbone: $0, strategy: strategy, mode: mode) } ?? (lr: 1e-3, weightDecay: 1e-4)
        o.optimizer = OptimizerConfig(kind: optimizer, lr: lr ?? d.lr, weightDecay: weightDecay ?? d.weightDecay)
        o.epochs = epochs; o.batch = batch; o.seed = seed; o.threads = threads; o.evalProtocol = evalProtocol
        o.nmiEvery = nmiEvery; o.nmiMode = nmiMode; o.nmiNormalization = nmiNormalization; o.augment = augment
        return o
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train one run and write its run log.")
    @OptionGroup var opts: RunOptions
    @Option(help: "Prompt initialization: \(InitStrategy.allCases.map(\.rawValue).joined(separator: ", ")).") var strategy: InitStrategy = .kmeans
    @Flag(help: "Load backbone and task, print the memory this run would need, and stop.") var dryRun = false

    func run() throws {
        Parallel.setThreads(opts.threads)
        let backbone = try opts.input.backbone(opts.backbone)
        let task = TaskData(source: try backbone.loadTask(opts.task), protocol: opts.evalProtocol)
        let options = opts.trainOptions(strategy: strategy, backbone: backbone)
        // Before anything is written: a run that will not fit is refused with a batch that does.
        let plan = try MemoryPlan.check(config: backbone.config, options: options, trainImages: task.train.count, classes: task.classes,
                                        dataBytes: task.bytes, strategies: [strategy])
        say("memory: about \(plan)")
        if dryRun { return }
        let session = RunDirectory.newSessionID()
        let runID = strategy.rawValue
        let path = RunDirectory.path(root: opts.runsDir, session: session, run: runID)
        let writer = try RunLogWriter(path: path)
        let summary = RunSummary()
        say("log: \(path)")
        let phases = PhaseReporter(say)
        let trainer = try PromptTrainer(options: options, backbone: backbone,
                                        task: task, runID: runID, sessionID: session, progress: phases.report,
                                        log: RunLogSink(writer: writer, observe: summary.add))
        let start = Date(), first = trainer.step
        while !trainer.finished {
            try trainer.trainStep()
            if trainer.step % 5 == 0 || trainer.finished {
                let f = Double(trainer.step) / Double(trainer.totalSteps), t = Date().timeIntervalSince(start)
                let eta = t / Double(max(1, trainer.step - first)) * Double(trainer.totalSteps - trainer.step)
                say(String(format: "%@ step %d/%d loss %.4f · %@ · ETA %@ %@", ProgressBar.render(fraction: f, width: 20),
                           trainer.step, trainer.totalSteps, summary.lastLoss, ProgressBar.duration(t), ProgressBar.duration(eta), summary.evalText))
            }
        }
        say(summary.report(strategy: strategy.rawValue))
    }
}

/// Collects what `spt train` and `spt compare` print at the end.
final class RunSummary: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var lastLoss = Double.nan
    private(set) var evals: [String: [Double]] = [:]
    private(set) var nmi: [[Double]] = []
    private(set) var initSeconds = 0.0, gatherSeconds = 0.0
    private(set) var diverged: String?

    func add(_ r: RunRecord) {
        lock.lock(); defer { lock.unlock() }
        switch r {
        case .train(let t): lastLoss = t.loss
        case .eval(let e): evals[e.split, default: []].append(e.accuracy)
        case .nmi(let n): nmi.append(n.values)
        case .initialization(let i): initSeconds += i.seconds; gatherSeconds += i.gatherSeconds ?? 0
        case .event(let e) where e.event == "diverged": diverged = e.message
        default: break
        }
    }

    var evalText: String {
        lock.lock(); defer { lock.unlock() }
        return evals.keys.sorted().compactMap { k in evals[k]!.last.map { String(format: "%@ acc %.1f%%", k, $0 * 100) } }.joined(separator: " ")
    }

    var nmiStart: Double { mean(nmi.first ?? []) }
    var nmiEnd: Double { mean(nmi.last ?? []) }
    /// nil when the run never evaluated on `split` (no val split in final runs) or diverged.
    func finalAccuracy(_ split: String) -> Double? { diverged == nil ? evals[split]?.last : nil }
    func bestAccuracy(_ split: String) -> Double? { evals[split]?.max() }

    func report(strategy: String) -> String {
        String(format: "%@: %@ | init %.2fs (+%.2fs gather) | NMI mean %.2e → %.2e", strategy, evalText, initSeconds,
               gatherSeconds, nmiStart, nmiEnd)
    }
}

extension TuningMode: ExpressibleByArgument {}
extension Pooling: ExpressibleByArgument {}
extension OptimizerConfig.Kind: ExpressibleByArgument {}
extension TaskData.EvalProtocol: ExpressibleByArgument {}
extension InitStrategy: ExpressibleByArgument {}
extension InitStrategy.PoolVariant: ExpressibleByArgument {}
extension NMI.Mode: ExpressibleByArgument {}
extension NMI.Normalization: ExpressibleByArgument {}
