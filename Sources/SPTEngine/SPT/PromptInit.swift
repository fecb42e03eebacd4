import Foundation

/// How prompts are initialized (METHOD.md §3).
public enum InitStrategy: String, Codable, Sendable, CaseIterable {
    case random, kmeans, meanPool = "mean-pool", maxPool = "max-pool", sample

    /// Pooling variants: the paper's wording (windows over one batch's flattened tokens) or the
    /// public code's (windows within each image, Np of the pooled tokens kept at random).
    public enum PoolVariant: String, Codable, Sendable, CaseIterable { case batchWindows = "batch-windows", perImage = "per-image" }

    public var usesCandidates: Bool { self != .random }
}

/// Settings of prompt initialization, recorded in the run log.
public struct InitOptions: Codable, Equatable, Sendable {
    public var strategy: InitStrategy
    public var poolVariant: InitStrategy.PoolVariant = .batchWindows
    /// Images whose tokens K-means clusters (nil: all training images).
    public var kmeansImages: Int?
    /// Images in the one random batch that pooling and sampling draw from.
    public var poolBatch = 32
    public var kmeansMaxIterations = 100
    /// 0: until no token changes centre (see `kmeans`).
    public var kmeansTolerance = 0.0
    public init(strategy: InitStrategy) { self.strategy = strategy }

    /// The training images whose tokens are gathered: the first `kmeansImages` when set, which
    /// bounds gathering's time and memory (pooling and sampling then draw from them too).
    public func gatheredImages(_ train: Dataset) -> Dataset {
        guard let n = kmeansImages, n < train.count else { return train }
        return train.subset(Array(0..<n))
    }

    /// The variant name written to logs ("" where the strategy has none).
    public var variantName: String? {
        switch strategy {
        case .meanPool, .maxPool: poolVariant.rawValue
        case .kmeans: "kmeans++/lloyd"
        case .random: "xavier-uniform"
        case .sample: nil
        }
    }
}

/// What an initialization produced, with its cost.
public struct InitResult: Sendable {
    public var prompts: [Float]          // [layers, Np, D]
    public var seconds: Double           // strategy time, gathering excluded
    public var gatherSeconds: Double
    public var iterations: Int?
    public var inertia: Double?
    public var images: Int
}

public enum PromptInitializer {
    /// VPT's random init: uniform on ±sqrt(6 / (C·p·p + D)).
    public static func randomBound(_ c: ViTConfig) -> Float { Float((6.0 / Double(c.patchDim + c.dim)).squareRoot()) }

    /// Builds prompts for every prompt layer of `spec` with `options`.
    /// `progress(layer, layers)` is called before each layer's K-means.
    public static func initialize(_ options: InitOptions, spec: PromptSpec, config c: ViTConfig,
                                  candidates: Candidates?, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }) -> InitResult {
        let layers = spec.layers(depth: c.depth), Np = spec.count, D = c.dim
        var rng = RNG(seed: seed)
        let start = Date()
        var out: [Float] = [], iterations = 0, inertia = 0.0
        if options.strategy == .random {
            let v = randomBound(c)
            out = (0..<(layers * Np * D)).map { _ in rng.uniform(-v, v) }
            return InitResult(prompts: out, seconds: Date().timeIntervalSince(start), gatherSeconds: 0, images: 0)
        }
        guard let cand = candidates else { preconditionFailure("\(options.strategy) needs candidate tokens") }
        let m = cand.tokensPerImage
        for l in 0..<layers {
            switch options.strategy {
            case .kmeans:
                progress(l, layers)
                // One layer in memory at a time, however the candidates are stored.
                let images = min(cand.images, options.kmeansImages ?? cand.images), n = images * m
                let tokens = cand.tokens(layer: l, images: 0..<images)
                let r = tokens.withUnsafeBufferPointer { p in
                    kmeans(UnsafeMutablePointer(mutating: p.baseAddress!), N: n, D: D, K: Np,
                           maxIterations: options.kmeansMaxIterations, tolerance: options.kmeansTolerance, seed: seed &+ UInt64(l))
                }
                out += r.centroids
                iterations += r.iterations
                inertia += r.inertia
            case .meanPool, .maxPool, .sample:
                let batch = randomBatch(images: cand.images, size: options.poolBatch, rng: &rng)
                let pool = cand.tokens(layer: l, images: batch)
                if options.strategy == .sample {
                    out += sampleTokens(pool, D: D, count: Np, rng: &rng)
                } else {
                    out += poolTokens(pool, images: batch.count, m: m, D: D, count: Np, max: options.strategy == .maxPool,
                                      variant: options.poolVariant, rng: &rng)
                }
            case .random:
                break
            }
        }
        let km = options.strategy == .kmeans
        return InitResult(prompts: out, seconds: Date().timeIntervalSince(start), gatherSeconds: cand.seconds,
                          iterations: km ? iterations : nil, inertia: km ? inertia : nil,
                          images: km ? min(cand.images, options.kmeansImages ?? cand.images) : min(cand.images, options.poolBatch))
    }

    static func randomBatch(images: Int, size: Int, rng: inout RNG) -> [Int] {
        Array(rng.permutation(images).prefix(min(size, images)))
    }

    /// `count` distinct tokens drawn uniformly from `tokens` ([n, D]).
    public static func sampleTokens(_ tokens: [Float], D: Int, count: Int, rng: inout RNG) -> [Float] {
        let n = tokens.count / D
        let picks = randomBatch(images: n, size: count, rng: &rng)
        var out = [Float]()
        for p in picks { out += tokens[(p * D)..<((p + 1) * D)] }
        while out.count < count * D { out += tokens[0..<D] } // fewer tokens than prompts: repeat
        return out
    }

    /// Mean or max pooling of `tokens` ([images · m, D]) into `count` prompts.
    public static func poolTokens(_ tokens: [Float], images: Int, m: Int, D: Int, count: Int, max useMax: Bool,
                                  variant: InitStrategy.PoolVariant, rng: inout RNG) -> [Float] {
        func reduce(_ rows: [Int]) -> [Float] {
            var acc = [Float](repeating: useMax ? -.infinity : 0, count: D)
            for r in rows {
                for d in 0..<D { let v = tokens[r * D + d]; acc[d] = useMax ? Swift.max(acc[d], v) : acc[d] + v }
            }
            if !useMax { for d in 0..<D { acc[d] /= Float(rows.count) } }
            return acc
        }
        switch variant {
        case .batchWindows:
            let w = Swift.max(1, images * m / count)
            return (0..<count).flatMap { k in reduce(Array((k * w)..<Swift.min(images * m, (k + 1) * w))) }
        case .perImage:
            let w = Swift.max(1, m / Swift.max(1, count - 1))
            var pooled: [[Float]] = []
            for b in 0..<images {
                var s = 0
                while s + w <= m { pooled.append(reduce(Array((b * m + s)..<(b * m + s + w)))); s += w }
            }
            let keep = randomBatch(images: pooled.count, size: count, rng: &rng)
            var out = keep.flatMap { pooled[$0] }
            while out.count < count * D { out += pooled[0] }
            return out
        }
    }
}
