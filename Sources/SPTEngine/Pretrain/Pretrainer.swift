import Foundation

/// Everything that determines a pretraining run; recorded in the backbone's metadata and in the
/// resumable state, so a run can be resumed only with the options it started with.
public struct PretrainOptions: Codable, Equatable, Sendable {
    public enum Method: String, Codable, Sendable, CaseIterable { case mae, supervised }
    public var method: Method
    public var config: ViTConfig
    public var mae = MAEConfig()
    public var epochs: Int
    public var batch: Int
    public var lr: Float
    public var weightDecay: Float = 0.05
    public var warmupEpochs: Int = 1
    public var seed: UInt64
    public var data = "fashion-mnist"
    public var norm = Normalization.fashionMNIST
    /// bf16 products (resolved, never auto); nil is fp32, so states written before the option
    /// still resume.
    public var precision: Precision?

    public init(method: Method, config: ViTConfig, epochs: Int, batch: Int, lr: Float, seed: UInt64) {
        self.method = method; self.config = config; self.epochs = epochs; self.batch = batch; self.lr = lr; self.seed = seed
    }
}

/// One progress report of `Pretrainer.run`.
public struct PretrainProgress: Sendable {
    public let step, totalSteps, epoch: Int
    public let loss: Float
    public let imagesPerSecond: Double
    public let secondsLeft: Double
}

/// Pretrains a backbone by MAE or supervised classification, checkpointing its full state every
/// `saveEvery` steps so that a killed run resumes exactly where it stopped.
public final class Pretrainer {
    public let options: PretrainOptions
    public let statePath: String
    public var saveEvery = 200
    private let train: Dataset
    private let batcher: Batcher
    private let backbone: ParameterSet
    private var mae: MAEModel?
    private var classifier: ViTClassifier?
    private let optimizer: Optimizer
    private var step = 0
    private var recentLoss: [Float] = []
    /// Wall-clock seconds of training over every invocation (kept in the state file).
    public private(set) var trainSeconds = 0.0

    public init(options: PretrainOptions, train: Dataset, statePath: String) throws {
        try options.validate()
        self.options = options; self.train = train; self.statePath = statePath
        let c = options.config
        var b = Batcher(channels: c.channels, size: c.imageSize, norm: options.norm)
        b.flip = true; b.shift = 2
        batcher = b
        backbone = c.initBackbone(seed: options.seed)
        var oc = OptimizerConfig(kind: .adamw, lr: options.lr, weightDecay: options.weightDecay)
        switch options.method {
        case .mae:
            oc.beta2 = 0.95
            let m = MAEModel(config: c, mae: options.mae, backbone: backbone, seed: options.seed, precision: options.precision ?? .fp32)
            mae = m
            optimizer = Optimizer(oc, [(m.backbone, m.backboneGrads), (m.decoder, m.decoderGrads)])
        case .supervised:
            let m = ViTClassifier(config: c, backbone: backbone, numClasses: train.classes,
                                  prompts: PromptSpec(count: 0), pooling: .cls, mode: .full, precision: options.precision ?? .fp32)
            var rng = RNG(seed: options.seed ^ 0x4EAD)
            m.initHead(rng: &rng)
            classifier = m
            optimizer = Optimizer(oc, [(m.backbone, m.backboneGrads!), (m.task, m.taskGrads)])
        }
        if FileManager.default.fileExists(atPath: statePath) { try loadState() }
    }

    public var stepsPerEpoch: Int { train.count / options.batch }
    public var totalSteps: Int { stepsPerEpoch * options.epochs }
    public var currentStep: Int { step }

    /// Trains to the end (or until `shouldStop` returns true), saving state along the way.
    public func run(shouldStop: () -> Bool = { false }, progress: (PretrainProgress) -> Void) throws {
        let c = options.config, B = options.batch
        let input = Buffer([B, c.channels, c.imageSize, c.imageSize])
        var order: [Int] = [], orderEpoch = -1
        let start = Date(), startStep = step, secondsBefore = trainSeconds
        while step < totalSteps {
            let epoch = step / stepsPerEpoch
            if epoch != orderEpoch {
                var r = RNG(seed: options.seed &+ UInt64(epoch) &* 0x9E37_79B9)
                order = r.permutation(train.count)
                orderEpoch = epoch
            }
            let k = step % stepsPerEpoch
            var rng = RNG(seed: options.seed ^ (UInt64(step) &* 0xA24B_AED4_963E_E407))
            let idx = order[(k * B)..<((k + 1) * B)]
            batcher.fill(input.ptr, from: train, indices: idx, rng: &rng)
            let loss: Float
            if let mae {
                loss = mae.forward(images: input.ptr, B: B, rng: &rng)
                mae.zeroGrads()
                mae.backward()
            } else {
                let m = classifier!, labels = idx.map { train.labels[$0] }
                loss = m.forward(images: input.ptr, B: B, labels: labels, training: true, rng: &rng)!
                m.zeroGrads()
                m.backward(labels: labels)
            }
            guard loss.isFinite else { throw EngineError.diverged(step: step, what: "loss is \(loss)") }
            let oc = optimizer.config
            optimizer.step(lr: oc.learningRate(step: step, totalSteps: totalSteps))
            step += 1
            trainSeconds = secondsBefore + Date().timeIntervalSince(start)
            recentLoss.append(loss)
            if recentLoss.count > 50 { recentLoss.removeFirst() }
            if step % 10 == 0 || step == totalSteps {
                let rate = Double((step - startStep) * B) / Date().timeIntervalSince(start)
                progress(PretrainProgress(step: step, totalSteps: totalSteps, epoch: epoch, loss: averageLoss,
                                          imagesPerSecond: rate, secondsLeft: Double((totalSteps - step) * B) / rate))
            }
            if step % saveEvery == 0 || step == totalSteps { try saveState() }
            if shouldStop() { try saveState(); return }
        }
    }

    /// Mean loss of the last 50 steps.
    public var averageLoss: Float { recentLoss.isEmpty ? .nan : recentLoss.reduce(0, +) / Float(recentLoss.count) }

    /// Writes the backbone alone (timm names, fp16) with its provenance.
    public func exportBackbone(to path: String, extra: [String: String]) throws {
        var meta = extra
        meta["format"] = "spt-backbone"
        meta["config"] = String(decoding: try JSONEncoder().encode(options.config), as: UTF8.self)
        meta["normalization"] = String(decoding: try JSONEncoder().encode(options.norm), as: UTF8.self)
        meta["pretrain"] = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        meta["method"] = options.method.rawValue
        meta["pooling"] = options.method == .mae ? Pooling.mean.rawValue : Pooling.cls.rawValue
        meta["data"] = options.data
        meta["epochs"] = String(options.epochs)
        meta["seed"] = String(options.seed)
        meta["final_loss"] = String(averageLoss)
        meta["train_seconds"] = String(format: "%.0f", trainSeconds)
        meta["engine"] = engineVersion
        try SafeTensors.write(path: path, tensors: SafeTensors.tensors(of: backbone), metadata: meta, dtype: .f16)
    }

    /// Test-split accuracy of the supervised head (nil for MAE).
    public func evaluate(_ test: Dataset) -> Double? {
        guard let m = classifier else { return nil }
        return SPTEngine.evaluate(m, on: test, batcher: Batcher(channels: batcher.channels, size: batcher.size, norm: batcher.norm)).accuracy
    }

    // MARK: state

    private func stateTensors() -> [(name: String, shape: [Int], values: [Float])] {
        var t = SafeTensors.tensors(of: backbone)
        if let mae { t += SafeTensors.tensors(of: mae.decoder, prefix: "decoder.") }
        if let classifier { t += SafeTensors.tensors(of: classifier.task, prefix: "task.") }
        t += optimizer.stateTensors
        t.append(("recent_loss", [recentLoss.count], recentLoss))
        return t
    }

    private func saveState() throws {
        let meta = ["options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self), "step": String(step),
                    "train_seconds": String(trainSeconds)]
        try SafeTensors.write(path: statePath, tensors: stateTensors(), metadata: meta)
    }

    private func loadState() throws {
        let f = try SafeTensors(path: statePath)
        guard let o = f.metadata["options"], let saved = try? JSONDecoder().decode(PretrainOptions.self, from: Data(o.utf8)) else {
            throw EngineError.checkpoint(file: statePath, message: "not a pretraining state file")
        }
        guard saved == options else {
            throw EngineError.checkpoint(file: statePath, message: "state was written with other options; delete it to start over")
        }
        try f.load(into: backbone)
        if let mae { try f.load(into: mae.decoder, prefix: "decoder.") }
        if let classifier { try f.load(into: classifier.task, prefix: "task.") }
        // Every tensor and number checked before it is used: a state of another size, or a step
        // outside the run, is refused by name (a negative step crashed, short tensors read past the end).
        func fail(_ m: String) -> EngineError { .checkpoint(file: statePath, message: m) }
        recentLoss = try f.floats("recent_loss")
        guard let saved = Int(f.metadata["step"] ?? ""), (0...totalSteps).contains(saved) else {
            throw fail("step \(f.metadata["step"] ?? "(missing)"): not a step of this run (0…\(totalSteps))")
        }
        step = saved
        guard let seconds = Double(f.metadata["train_seconds"] ?? "0"), seconds.isFinite, seconds >= 0 else {
            throw fail("train_seconds \(f.metadata["train_seconds"] ?? ""): not a duration")
        }
        trainSeconds = seconds
        try optimizer.restore(from: f, steps: step)
    }
}
