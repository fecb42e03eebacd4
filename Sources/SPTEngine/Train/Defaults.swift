import Foundation
import SPTRuns

/// Default learning rate and weight decay per backbone and strategy. For the shipped backbones
/// the prompt-tuning learning rates are the ones `spt compare --tune --tune-seeds 0 1 2` picked
/// on the val split of `fashion-mnist` (train 800 / val 200, the mean over three seeds, the
/// authors' pooling) from a grid extended until every pick had a worse rate on both sides
/// (docs/findings.md, "Pooling variants"); nothing is ever chosen on test. Keyed by
/// content hash, so only those exact weights get them. Prototype prompts have the norm of hidden
/// tokens while random ones are tiny, so every prototype strategy picked a 3–30× larger lr
/// than random.
public enum Defaults {
    /// What `spt train` and `spt_torch.train` initialize with unless told.
    public static let trainStrategy = InitStrategy.kmeans

    static let promptLR: [String: [InitStrategy: Float]] = [
        "430ff8d51ef1de2a": [.random: 3e-3, .kmeans: 1e-2, .meanPool: 1e-2, .maxPool: 1e-2, .sample: 1e-2],  // mae-tiny
        "97ae71ce2ed20822": [.random: 1e-3, .kmeans: 3e-2, .meanPool: 3e-2, .maxPool: 3e-2, .sample: 3e-2],  // sup-tiny
    ]

    /// Sets the learning rate and weight decay of `o` for its backbone, strategy and mode, except
    /// those the user gave.
    public static func apply(_ o: inout TrainOptions, backbone: Backbone, lr: Float?, weightDecay: Float?) {
        let d = hyperparameters(backbone: backbone, strategy: o.initialization.strategy, mode: o.mode)
        o.optimizer.lr = lr ?? d.lr
        o.optimizer.weightDecay = weightDecay ?? d.weightDecay
    }

    public static func hyperparameters(backbone: Backbone, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        hyperparameters(backboneHash: backbone.hash, strategy: strategy, mode: mode)
    }

    /// Without a known backbone hash (nil or another file): the pattern both shipped backbones share.
    public static func hyperparameters(backboneHash: String?, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        switch mode {
        case .linear: return (1e-2, 1e-4)
        case .full: return (1e-4, 0.05)
        case .prompt: return (backboneHash.flatMap { promptLR[$0]?[strategy] } ?? (strategy == .random ? 3e-3 : 1e-2), 1e-4)
        }
    }

    /// Every default of a run as data, for `spt_torch.train` (`python/spt_torch/defaults.json`,
    /// which `DefaultsTests` keeps equal to this): the options' defaults by their flag names, and
    /// the learning rate and weight decay per mode, backbone hash and strategy.
    public static var exported: String {
        let o = TrainOptions()
        func d(_ f: Float) -> Double { Double("\(f)")! }  // 0.003, not Float's 0.0030000000260770321
        func rates(_ hash: String?, _ mode: TuningMode) -> [String: Any] {
            var lr: [String: Any] = [:]
            for s in InitStrategy.allCases { lr[s.rawValue] = d(hyperparameters(backboneHash: hash, strategy: s, mode: mode).lr) }
            return ["lr": lr, "weight_decay": d(hyperparameters(backboneHash: hash, strategy: .random, mode: mode).weightDecay)]
        }
        let object: [String: Any] = [
            "options": [
                "task": o.task, "backbone": o.backbone, "prompts": o.prompts.count, "prompt_dropout": d(o.prompts.dropout),
                "mode": o.mode.rawValue, "optimizer": o.optimizer.kind.rawValue, "momentum": d(o.optimizer.momentum),
                "warmup_epochs": o.warmupEpochs, "recipe": o.recipe.rawValue, "precision": o.precision.rawValue,
                "epochs": o.epochs, "batch": o.batch, "seed": Int(o.seed), "split_seed": Int(o.splitSeed), "threads": o.threads,
                "eval_protocol": o.evalProtocol.rawValue, "nmi_every": o.nmiEvery.description, "nmi_mode": o.nmiMode.rawValue,
                "nmi_normalization": o.nmiNormalization.rawValue, "probe_images": o.probeImages, "maps": o.maps,
                "pool_variant": o.initialization.poolVariant.rawValue, "kmeans_restarts": o.initialization.kmeansRestarts,
                "strategy": trainStrategy.rawValue, "runs_dir": RunDirectory.defaultRoot,
            ],
            "rates": Dictionary(uniqueKeysWithValues: TuningMode.allCases.map { m in
                (m.rawValue, ["other": rates(nil, m), "by_hash": Dictionary(uniqueKeysWithValues: promptLR.keys.map { ($0, rates($0, m)) })] as [String: Any])
            }),
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
