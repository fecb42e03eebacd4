/// Untuned defaults for learning rate and weight decay, per strategy (the same for every
/// backbone so far). Prototype prompts have the norm of hidden tokens while random prompts are
/// tiny, so one lr does not fit all strategies. A first choice, not yet selected on the val split
/// by `spt compare --tune` (README, "Findings"); nothing is ever chosen on test.
public enum Defaults {
    public static func hyperparameters(backbone: Backbone, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        switch mode {
        case .linear: return (1e-2, 1e-4)
        case .full: return (1e-4, 0.05)
        case .prompt: return strategy == .random ? (1e-2, 1e-4) : (5e-3, 1e-4)
        }
    }
}
