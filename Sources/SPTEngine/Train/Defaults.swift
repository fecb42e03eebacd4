/// Default learning rate and weight decay per backbone and strategy. For the shipped backbones
/// the prompt-tuning learning rates are the ones `spt compare --tune` picked on the val split of
/// `fashion-mnist` (train 800 / val 200, seed 0) from a grid extended until every pick had a
/// worse rate on both sides (README, "Findings"); nothing is ever chosen on test. Keyed by
/// content hash, so only those exact weights get them. Prototype prompts have the norm of hidden
/// tokens while random ones are tiny, so every prototype strategy picked a 3–100× larger lr
/// than random.
public enum Defaults {
    static let promptLR: [String: [InitStrategy: Float]] = [
        "430ff8d51ef1de2a": [.random: 3e-3, .kmeans: 1e-2, .meanPool: 1e-2, .maxPool: 1e-2, .sample: 1e-2],  // mae-tiny
        "97ae71ce2ed20822": [.random: 1e-3, .kmeans: 3e-2, .meanPool: 1e-2, .maxPool: 1e-1, .sample: 3e-2],  // sup-tiny
    ]

    /// Sets the learning rate and weight decay of `o` for its backbone, strategy and mode, except
    /// those the user gave.
    public static func apply(_ o: inout TrainOptions, backbone: Backbone, lr: Float?, weightDecay: Float?) {
        let d = hyperparameters(backbone: backbone, strategy: o.initialization.strategy, mode: o.mode)
        o.optimizer.lr = lr ?? d.lr
        o.optimizer.weightDecay = weightDecay ?? d.weightDecay
    }

    public static func hyperparameters(backbone: Backbone, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        switch mode {
        case .linear: return (1e-2, 1e-4)
        case .full: return (1e-4, 0.05)
        case .prompt:
            // other backbones: the pattern both shipped ones share
            return (promptLR[backbone.hash]?[strategy] ?? (strategy == .random ? 3e-3 : 1e-2), 1e-4)
        }
    }
}
