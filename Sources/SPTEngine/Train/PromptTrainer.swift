import Foundation
import SPTRuns

/// One prompt-tuning run (VPT/SPT), stepped by its caller so that a dashboard can pause, stop or
/// switch the prompt strategy between steps. Every number it produces goes to `log` as a
/// run-log record: header, init, train, eval, nmi, segment, event.
public final class PromptTrainer {
    public let options: TrainOptions
    public let runID: String
    public let model: ViTClassifier
    public private(set) var step = 0
    public private(set) var strategy: InitStrategy
    public private(set) var finished = false
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }
    /// Steps between probes (0: none): `options.nmiEvery`, with `auto` resolved before the run starts.
    public internal(set) var nmiEvery = 0

    private let task: TaskData
    private let batcher: Batcher
    private let evalBatcher: Batcher
    private(set) var optimizer: Optimizer
    private let log: RunLogSink
    private let candidateSource: (@escaping (TrainerPhase) -> Void) throws -> Candidates
    private let progress: (TrainerPhase) -> Void
    private var candidates: Candidates?
    /// The probe images' prompt-free tokens per prompt layer, the reference of `PromptDiversity`.
    private let referenceSource: () throws -> Candidates
    private var reference: Candidates?
    private let input, probe: Buffer
    private var order: [Int] = []
    private var orderEpoch = -1
    private var activeSeconds = 0.0
    /// The prompt map's plane, fixed at the run's first map (kept in checkpoints).
    var mapBasis: ProjectionBasis?
    /// The backbone's input normalization (the image view's pixels are the probe's, un-normalized).
    private let backboneNorm: Normalization
    private var epochLoss = 0.0, epochCorrect = 0, epochSeen = 0

    /// `candidates` is called at most once, when a prototype strategy first needs tokens; a
    /// comparison passes a shared, cached gatherer so the backbone pass runs once for all runs.
    /// Records go to `log`; the first failed write stops the run (`trainStep` throws it). Runs
    /// stepped by one thread in turn (a dashboard session) pass one `workspaces` to share activations.
    /// `progress` hears of gathering, K-means and evaluation as they go.
    public init(options: TrainOptions, backbone: Backbone, task: TaskData, runID: String, sessionID: String,
                candidates: ((@escaping (TrainerPhase) -> Void) throws -> Candidates)? = nil, workspaces: Workspaces = Workspaces(),
                progress: @escaping (TrainerPhase) -> Void = { _ in }, restoring checkpoint: TrainerCheckpoint? = nil,
                log: RunLogSink) throws {
        self.progress = progress
        try options.validate(config: backbone.config, trainImages: task.train.count)
        self.options = options; self.runID = runID; self.task = task; self.log = log
        strategy = options.initialization.strategy
        let c = backbone.config
        backboneNorm = backbone.norm
        model = ViTClassifier(config: c, backbone: backbone.params, numClasses: task.classes, prompts: options.prompts,
                              pooling: options.pooling ?? backbone.pooling, mode: options.mode, workspaces: workspaces,
                              precision: options.precision)
        var b = Batcher(channels: c.channels, size: c.imageSize, norm: backbone.norm)
        evalBatcher = b
        if options.augment { b.flip = true; b.shift = 2 }
        batcher = b
        stepsPerEpoch = task.train.count / options.batch
        optimizer = Self.makeOptimizer(options, model)
        input = Buffer([options.batch, c.channels, c.imageSize, c.imageSize])
        probe = Buffer([min(options.probeImages, task.train.count), c.channels, c.imageSize, c.imageSize])
        var rng = RNG(seed: 0)
        evalBatcher.fill(probe.ptr, from: task.train, indices: Array(0..<probe.shape[0])[...], rng: &rng)
        let layerCount = max(1, options.prompts.layers(depth: c.depth))
        let train = options.initialization.gatheredImages(task.train)
        candidateSource = candidates ?? { report in
            try Candidates.gather(backbone: backbone, data: train, layerCount: layerCount, precision: options.precision) {
                report(.gathering(done: $0, total: $1))
            }
        }
        let probeImages = task.train.subset(Array(0..<probe.shape[0]))
        referenceSource = { try Candidates.gather(backbone: backbone, data: probeImages, layerCount: layerCount) }
        if let checkpoint {
            // The log already holds the header and everything up to the checkpoint; the caller cuts
            // it back and marks the run `restored` once the state has loaded.
            try restore(checkpoint)
            return
        }
        var cadence = "fixed"
        switch options.nmiEvery {
        case .every(let n): nmiEvery = n
        case .auto where options.prompts.count == 0: nmiEvery = 0
        case .auto:
            let first = Array(0..<options.batch)
            evalBatcher.fill(input.ptr, from: task.train, indices: first[...], rng: &rng)
            let key = "\(c) \(options.prompts) \(options.mode) \(options.precision) \(options.batch) \(probe.shape[0]) \(options.nmiMode) \(options.maps > 0)"
            let r = NMICadence.resolve(model, key: key, probe: probe.ptr, B: probe.shape[0], mode: options.nmiMode, normalization: options.nmiNormalization,
                                       maps: options.maps > 0, input: input.ptr, batch: options.batch, labels: first.map { task.train.labels[$0] })
            nmiEvery = r.steps
            cadence = r.summary
        }
        log.emit(.header(RunHeader(
            run: runID, session: sessionID, engine: engineVersion, task: task.name, backbone: backbone.name,
            backboneHash: backbone.hash, strategy: strategy.rawValue, variant: options.initialization.variantName,
            deep: options.prompts.deep, prompts: options.prompts.count, mode: options.mode.rawValue,
            pooling: model.pooling.rawValue, optimizer: options.optimizer.kind.rawValue, lr: Double(options.optimizer.lr),
            weightDecay: Double(options.optimizer.weightDecay), epochs: options.epochs, batch: options.batch,
            seed: options.seed, threads: options.threads,
            params: RunHeader.params([.evalProtocol: options.evalProtocol.rawValue, .evalSplit: task.evalSplit,
                     .splitSeed: task.splitSeed.map(String.init) ?? "published",
                     .trainSelection: task.selectionHash,
                     .trainImages: String(task.train.count), .evalImages: String(task.eval.count),
                     .nmiMode: options.nmiMode.rawValue, .nmiNormalization: options.nmiNormalization.rawValue,
                     .nmiEvery: String(nmiEvery), .nmiCadence: cadence, .probeImages: String(probe.shape[0]),
                     .promptDropout: String(options.prompts.dropout), .warmupEpochs: String(options.warmupEpochs),
                     .recipe: options.recipe.rawValue, .precision: options.precision.rawValue,
                     .lrSchedule: options.recipe == .vpt ? "per epoch, warmup from 0 (VPT)" : "per step",
                     .momentum: options.optimizer.kind == .sgd ? String(options.optimizer.momentum) : "—",
                     .initImages: String(options.initialization.drawnImages(gathered: train.count)),
                     .initDraw: options.initialization.drawRule, .augment: String(options.augment),
                     .kmeansImages: options.initialization.kmeansImages.map(String.init) ?? "all",
                     .kmeansRestarts: String(options.initialization.kmeansRestarts),
                     .blasCore: BLASCore.description, .imageSize: String(c.imageSize),
                     .preprocessing: backbone.preprocessing.summary,
                     .normalization: "mean \(backbone.norm.mean) std \(backbone.norm.std)"]))))
        var hr = RNG(seed: options.seed ^ 0x4EAD)
        model.initHead(rng: &hr)
        try initializePrompts(options.initialization)
        try log.check()
    }

    private static func makeOptimizer(_ o: TrainOptions, _ m: ViTClassifier) -> Optimizer {
        var groups = [(m.task, m.taskGrads)]
        if let g = m.backboneGrads { groups.append((m.backbone, g)) }
        return Optimizer(o.optimizer, groups)
    }

    public var epoch: Double { Double(step) / Double(stepsPerEpoch) }

    /// What a checkpoint keeps of the epoch's running sums and the clock (`TrainerCheckpoint`).
    var trainingState: (activeSeconds: Double, epochLoss: Double, epochCorrect: Int, epochSeen: Int) {
        (activeSeconds, epochLoss, epochCorrect, epochSeen)
    }

    func restoreState(step: Int, strategy: InitStrategy, state: (activeSeconds: Double, epochLoss: Double, epochCorrect: Int, epochSeen: Int)) {
        self.step = step; self.strategy = strategy
        (activeSeconds, epochLoss, epochCorrect, epochSeen) = state
    }

    /// Re-initializes the prompts with another strategy and continues from the current step with
    /// fresh optimizer moments; the log gets a `segment` record.
    public func switchStrategy(to s: InitStrategy, reason: String) throws {
        guard !finished else { return }
        strategy = s
        var o = options.initialization
        o.strategy = s
        log.emit(.segment(SegmentRecord(step: step, time: activeSeconds, strategy: s.rawValue, variant: o.variantName, reason: reason)))
        try initializePrompts(o)
        optimizer = Self.makeOptimizer(options, model)
    }

    private func initializePrompts(_ o: InitOptions) throws {
        guard options.prompts.count > 0 else { measureNMI(); return }
        let start = Date()
        if o.strategy.usesCandidates && candidates == nil { candidates = try candidateSource(progress) }
        let r = PromptInitializer.initialize(o, spec: options.prompts, config: model.config,
                                             candidates: o.strategy.usesCandidates ? candidates : nil,
                                             seed: options.seed &+ UInt64(step) &* 31) { progress(.clustering(layer: $0, layers: $1)) }
        model.task.set("prompt_embeddings", r.prompts)
        activeSeconds += Date().timeIntervalSince(start)
        if reference == nil { reference = try referenceSource() }
        let D = model.config.dim, Np = options.prompts.count, ref = reference!
        let diversity = (0..<(r.prompts.count / (Np * D))).map { l in
            PromptDiversity.measure(prompts: Array(r.prompts[(l * Np * D)..<((l + 1) * Np * D)]), tokens: ref.layer(l), D: D)
        }
        log.emit(.initialization(InitRecord(step: step, strategy: o.strategy.rawValue, variant: o.variantName, seconds: r.seconds,
                                        gatherSeconds: o.strategy.usesCandidates ? r.gatherSeconds : nil,
                                        iterations: r.iterations, inertia: r.inertia, images: r.images,
                                        cosine: Np > 1 ? diversity.map { $0.cosine! } : nil,
                                        effectiveRank: diversity.map(\.effectiveRank), nearest: diversity.map(\.nearest))))
        measureNMI(initialization: true)
    }

    /// Whether the probe at the current step draws a prompt map: one at every initialization, and
    /// at most `options.maps` of the scheduled probes, evenly spread, the run's last one included.
    func mapDue(initialization: Bool) -> Bool {
        guard options.maps > 0 else { return false }
        if initialization { return true }
        let probes = totalSteps / nmiEvery, every = max(1, (probes + options.maps - 1) / options.maps)
        return (step / nmiEvery) % every == 0 || step + nmiEvery > totalSteps
    }

    private func measureNMI(initialization: Bool = false) {
        guard nmiEvery > 0, options.prompts.count > 0 else { return }
        let start = Date()
        let m = PromptProbe.measure(model, images: probe.ptr, B: probe.shape[0], mode: options.nmiMode, normalization: options.nmiNormalization,
                                    map: mapDue(initialization: initialization) ? mapBasis ?? ProjectionBasis() : nil)
        activeSeconds += Date().timeIntervalSince(start)
        log.emit(.nmi(NMIRecord(step: step, epoch: epoch, time: activeSeconds, values: m.nmi,
                            mode: options.nmiMode.rawValue, normalization: options.nmiNormalization.rawValue)))
        log.emit(.attention(AttentionRecord(step: step, epoch: epoch, time: activeSeconds, cls: m.attentionCLS, patches: m.attentionPatches)))
        guard let map = m.map, let basis = m.basis else { return }
        if mapBasis == nil {
            mapBasis = basis
            let c = model.config, image = PromptMap.probeImage(probe.ptr, channels: c.channels, size: c.imageSize, mean: backboneNorm.mean, std: backboneNorm.std)
            log.emit(.projection(ProjectionRecord(step: step, centre: basis.centre, axes: basis.axes, explained: basis.explained,
                                                  image: Data(image.bytes).base64EncodedString(), imageWidth: image.width, imageHeight: image.height,
                                                  imageChannels: c.channels)))
        }
        log.emit(.map(MapRecord(step: step, epoch: epoch, time: activeSeconds, prompts: map.prompts, patches: map.patches, nearest: map.nearest,
                                imageNearest: map.imageNearest, imageAttention: map.imageAttention)))
    }

    /// The order an epoch visits the training images (`spt_torch.rng.epoch_order` reproduces it).
    public static func epochOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var r = RNG(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        return r.permutation(count)
    }

    /// One optimizer step (plus evaluation at epoch ends and NMI on schedule). Throws
    /// `EngineError.diverged` — after logging it — when the loss or gradient is not finite, and
    /// the log's first write error, ending the run, when a record could not be written.
    public func trainStep() throws {
        guard !finished else { return }
        defer { if log.failure != nil { finished = true } }
        try log.check()
        let start = Date()
        let B = options.batch, ep = step / stepsPerEpoch
        if ep != orderEpoch {
            order = Self.epochOrder(count: task.train.count, seed: options.seed, epoch: ep)
            orderEpoch = ep
        }
        var rng = RNG(seed: options.seed ^ (UInt64(step) &* 0xA24B_AED4_963E_E407))
        let k = step % stepsPerEpoch
        let idx = order[(k * B)..<((k + 1) * B)]
        batcher.fill(input.ptr, from: task.train, indices: idx, rng: &rng)
        let labels = idx.map { task.train.labels[$0] }
        let loss = model.forward(images: input.ptr, B: B, labels: labels, training: true, rng: &rng)!
        epochCorrect += countCorrect(model.logits.ptr, labels, K: model.numClasses)
        model.zeroGrads()
        model.backward(labels: labels)
        let gn = optimizer.gradNorm()
        guard loss.isFinite, gn.isFinite else {
            let what = loss.isFinite ? "gradient norm is \(gn)" : "loss is \(loss)"
            log.emit(.event(EventRecord(step: step, time: activeSeconds, .diverged, message: what)))
            finished = true
            throw EngineError.diverged(step: step, what: what)
        }
        let warm = options.warmupEpochs * stepsPerEpoch
        var oc = options.optimizer
        oc.warmupSteps = warm
        if options.recipe == .vpt { oc.stepsPerEpoch = stepsPerEpoch }
        let lr = oc.learningRate(step: step, totalSteps: totalSteps)
        optimizer.step(lr: lr)
        step += 1
        epochLoss += Double(loss) * Double(B); epochSeen += B
        let dt = Date().timeIntervalSince(start)
        activeSeconds += dt
        log.emit(.train(TrainRecord(step: step, epoch: epoch, time: activeSeconds, loss: Double(loss), lr: Double(lr),
                                gradNorm: Double(gn), imagesPerSecond: Double(B) / max(dt, 1e-9))))
        if step % stepsPerEpoch == 0 {
            log.emit(.eval(EvalRecord(step: step, epoch: epoch, time: activeSeconds, split: "train",
                                  loss: epochLoss / Double(epochSeen), accuracy: Double(epochCorrect) / Double(epochSeen))))
            epochLoss = 0; epochCorrect = 0; epochSeen = 0
            // The test split is only evaluated once, at the end: nothing may be selected on it.
            if task.evalSplit != "test" || step == totalSteps { evaluateNow() }
        }
        if nmiEvery > 0 && step % nmiEvery == 0 { measureNMI() }
        if step == totalSteps { finish(.finished) }
        try log.check()
    }

    /// Evaluates on the task's eval split and logs it.
    public func evaluateNow() {
        let start = Date()
        let r = evaluate(model, on: task.eval, batcher: evalBatcher) { progress(.evaluating(split: task.evalSplit, done: $0, total: $1)) }
        activeSeconds += Date().timeIntervalSince(start)
        log.emit(.eval(EvalRecord(step: step, epoch: epoch, time: activeSeconds, split: task.evalSplit, loss: r.loss, accuracy: r.accuracy)))
    }

    /// Ends the run ("finished" when all steps ran, otherwise e.g. "stopped").
    public func finish(_ event: RunEvent, message: String? = nil) {
        guard !finished else { return }
        finished = true
        log.emit(.event(EventRecord(step: step, time: activeSeconds, event, message: message)))
    }

    /// Logs a pause, a resume or a restoration (the caller simply stops or restarts calling `trainStep`).
    public func mark(_ event: RunEvent, message: String? = nil) {
        log.emit(.event(EventRecord(step: step, time: activeSeconds, event, message: message)))
    }
}
