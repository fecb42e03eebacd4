/// Untuned defaults for learning rate and weight decay, per strategy (the same for every
/// backbone so far). Prototype prompts have the norm of hidden tokens while random prompts are
/// tiny, so one lr does not fit all strategies. A first choice from short runs on the val split,
/// not yet confirmed by `spt compare --tune` (README, "Findings"); nothing is chosen on test.
public enum Defaults {
    public static func hyperparameters(backbone: Backbone, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        switch mode {
        case .linear: return (1e-2, 1e-4)
        case .full: return (1e-4, 0.05)
        case .prompt: return strategy == .random ? (1e-2, 1e-4) : (5e-3, 1e-4)
        }
    }
}
