import Foundation

/// The peak memory a run (or a session of runs sharing one backbone and one set of workspaces)
/// will need, from the shapes alone, and whether it fits in what the machine has available.
public struct MemoryPlan: Sendable, CustomStringConvertible {
    public var parts: [(name: String, bytes: Int)]
    public var total: Int { parts.map(\.bytes).reduce(0, +) }

    /// The process itself: Swift runtime, Foundation, OpenBLAS's buffers (measured: ≈ 24 MB idle).
    static let baseBytes = 40 << 20

    /// - data: bytes of the task's images as loaded (all splits and their subsets).
    public init(config c: ViTConfig, options o: TrainOptions, runs: Int = 1, trainImages: Int, classes: Int,
                dataBytes: Int, strategies: [InitStrategy]) {
        let D = c.dim, m = c.numPatches, Np = o.prompts.count
        let weights = c.backboneLayout.count
        let task = ViTClassifier.taskLayout(config: c, numClasses: classes, prompts: o.prompts).count
        let saves = ViTClassifier.saves(o.mode)
        let Tp = c.tokens(prompts: Np), T0 = c.tokens()
        let training = Workspaces.floats(c, B: o.batch, T: Tp, saves: saves, gradients: true)
        // Gathering's pass (no prompts) ends before training starts; evaluation's runs beside it.
        let inference = max(Workspaces.floats(c, B: Workspaces.inferenceBatch(c, T: Tp), T: Tp, saves: .none, gradients: false),
                            Workspaces.floats(c, B: Workspaces.inferenceBatch(c, T: T0), T: T0, saves: .none, gradients: false))
        var tokens = 0
        if strategies.contains(where: \.usesCandidates) && Np > 0 {
            let layers = o.prompts.layers(depth: c.depth), images = min(o.initialization.kmeansImages ?? trainImages, trainImages)
            let all = Candidates.bytes(images: images, tokensPerImage: m, dim: D, layers: layers)
            let one = images * m * D * 4
            // In memory they stay for later switches; on disk one layer is read (half, then Float)
            // for K-means, with its per-token bounds and labels and k-means++'s trial distances.
            tokens = (all <= Candidates.memoryBudget ? all : one + one / 2) + images * m * 4 * (4 + 3)
        }
        parts = [("process", Self.baseBytes), ("backbone", 4 * weights * (o.mode == .full ? 4 : 1)),
                 ("runs' prompts, head, optimizer", 4 * task * 4 * runs), ("images", dataBytes),
                 ("training activations", 4 * training), ("inference scratch", 4 * inference), ("prototype tokens", tokens)]
    }

    public var description: String {
        Self.format(total) + " (" + parts.filter { $0.bytes >= 1 << 20 }.map { "\($0.name) \(Self.format($0.bytes))" }.joined(separator: ", ") + ")"
    }

    static func format(_ b: Int) -> String {
        b >= 1 << 30 ? String(format: "%.1f GB", Double(b) / Double(1 << 30)) : String(format: "%.0f MB", Double(b) / Double(1 << 20))
    }

    /// Memory the system can give without swapping (MemAvailable), or nil where unknown.
    public static func available() -> Int? { availableMemory() }

    /// Throws, with the batch size that would fit, when the plan exceeds the available memory.
    public static func check(config c: ViTConfig, options o: TrainOptions, runs: Int = 1, trainImages: Int, classes: Int,
                             dataBytes: Int, strategies: [InitStrategy], available: Int? = available()) throws -> MemoryPlan {
        let plan = MemoryPlan(config: c, options: o, runs: runs, trainImages: trainImages, classes: classes, dataBytes: dataBytes, strategies: strategies)
        guard let available, plan.total > available else { return plan }
        var fitting: Int?
        var b = o.batch / 2
        while b >= 1 {
            var smaller = o
            smaller.batch = b
            if MemoryPlan(config: c, options: smaller, runs: runs, trainImages: trainImages, classes: classes,
                          dataBytes: dataBytes, strategies: strategies).total <= available { fitting = b; break }
            b /= 2
        }
        throw EngineError.invalidArgument("this run needs about \(plan), and \(format(available)) is available; "
            + (fitting.map { "--batch \($0) fits" } ?? "no batch size fits: use a smaller backbone or task"))
    }
}
