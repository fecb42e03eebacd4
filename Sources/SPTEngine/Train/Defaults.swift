/// Untuned defaults for learning rate and weight decay, per backbone and strategy. Prototype
/// prompts have the norm of hidden tokens while random prompts are tiny, so one lr does not fit
/// all strategies. Values chosen on the val split (README, "Defaults"); nothing on test.
public enum Defaults {
    public static func hyperparameters(backbone: Backbone, strategy: InitStrategy, mode: TuningMode) -> (lr: Float, weightDecay: Float) {
        switch mode {
        case .linear: return (1e-2, 1e-4)
        case .full: return (1e-4, 0.05)
        case .prompt: return strategy == .random ? (1e-2, 1e-4) : (5e-3, 1e-4)
        }
    }
}
