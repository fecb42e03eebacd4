import Foundation
import Testing
import SPTCommandLine
@testable import SPTEngine

/// `--recipe vpt`: VPT's published recipe.
@Suite struct RecipeTests {
    @Test func vptFlagsSetTheRecipe() throws {
        let o = try RunFlags.parse(["--recipe", "vpt", "--lr", "5", "--batch", "64"]).trainOptions(strategy: .kmeans, backbone: nil)
        #expect(o.recipe == .vpt && o.optimizer.kind == .sgd && o.optimizer.momentum == 0.9)
        #expect(o.optimizer.lr == 1.25)   // base 5 × 64 / 256
        #expect(o.epochs == 100 && o.warmupEpochs == 10 && o.optimizer.weightDecay == 1e-3)
        #expect(try RunFlags.parse(["--recipe", "vpt", "--epochs", "3"]).trainOptions(strategy: .random, backbone: nil).epochs == 3)
        // The old spelling, for one release: the same recipe; contradicting --recipe is refused.
        #expect(try RunFlags.parse(["--protocol", "vpt"]).trainOptions(strategy: .random, backbone: nil).recipe == .vpt)
        #expect(throws: (any Error).self) { try RunFlags.parse(["--protocol", "vpt", "--recipe", "engine"]).validate() }
        let engine = try RunFlags.parse([]).trainOptions(strategy: .random, backbone: nil)
        #expect(engine.recipe == .engine && engine.epochs == 10 && engine.optimizer.kind == .adamw)
    }

    /// VPT's WarmupCosineSchedule stepped at epoch ends: epoch e < 10 at lr·e/10 (the first at 0),
    /// then a half cosine over the remaining 90 epochs, constant within an epoch.
    @Test func theScheduleStepsPerEpoch() {
        var c = OptimizerConfig(kind: .sgd, lr: 2, weightDecay: 0, warmupSteps: 10 * 7)
        c.stepsPerEpoch = 7
        let total = 100 * 7
        #expect(c.learningRate(step: 0, totalSteps: total) == 0 && c.learningRate(step: 6, totalSteps: total) == 0)
        #expect(c.learningRate(step: 7, totalSteps: total) == 0.2 && c.learningRate(step: 13, totalSteps: total) == 0.2)
        #expect(c.learningRate(step: 69, totalSteps: total) == 1.8 && c.learningRate(step: 70, totalSteps: total) == 2)
        #expect(abs(c.learningRate(step: 55 * 7, totalSteps: total) - 1) < 1e-6)
        let last = c.learningRate(step: 699, totalSteps: total)
        #expect(abs(Double(last) - 2 * 0.5 * (1 + cos(Double.pi * 89 / 90))) < 1e-6)
    }
}
