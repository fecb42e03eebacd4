import Foundation

/// How prompts are initialized (docs/METHOD.md §3).
public enum InitStrategy: String, Codable, Sendable, CaseIterable {
    case random, kmeans, meanPool = "mean-pool", maxPool = "max-pool", sample

    /// Which images pooling and sampling draw, and how pooling cuts an image's tokens
    /// (docs/METHOD.md §3.3):
    /// - `authors`: SPT's `prompt_generator` — images drawn with replacement from the training
    ///   split, the same draw for every layer; per image Np−1 windows of ⌊m/(Np−1)⌋ tokens plus a
    ///   last window of the remaining `m mod w` tokens (the whole image when that is 0); Np of the
    ///   N·Np pooled tokens kept at random.
    /// - `batch-windows`: Np windows of the batch's flattened tokens, across image boundaries,
    ///   over a fresh batch per layer.
    /// (A third, `per-image` — full windows only, a fresh batch per layer — measured as `authors`
    /// does or worse and was removed: docs/findings.md, "Pooling variants".)
    public enum PoolVariant: String, Codable, Sendable, CaseIterable {
        case authors, batchWindows = "batch-windows"
    }

    public var usesCandidates: Bool { self != .random }
}

/// Settings of prompt initialization, recorded in the run log.
public struct InitOptions: Codable, Equatable, Sendable {
    public var strategy: InitStrategy
    public var poolVariant: InitStrategy.PoolVariant = .authors
    /// Images whose tokens are gathered and K-means clusters (nil: all training images).
    public var kmeansImages: Int?
    /// Images pooling and sampling draw (nil: as many draws as gathered images under `authors`,
    /// a batch of 32 under the other variants).
    public var initImages: Int?
    public var kmeansMaxIterations = 100
    /// 0: until no token changes centre (see `kmeans`).
    public var kmeansTolerance = 0.0
    /// K-means runs from different seedings; the lowest inertia is kept.
    public var kmeansRestarts = 1
    public init(strategy: InitStrategy) { self.strategy = strategy }

    /// The training images whose tokens are gathered: the first `kmeansImages` when set, which
    /// bounds gathering's time and memory (pooling and sampling then draw from them too).
    public func gatheredImages(_ train: Dataset) -> Dataset {
        guard let n = kmeansImages, n < train.count else { return train }
        return train.subset(Array(0..<n))
    }

    /// How many images pooling and sampling draw from `gathered` images.
    public func drawnImages(gathered: Int) -> Int {
        poolVariant == .authors ? (initImages ?? gathered) : min(initImages ?? 32, gathered)
    }

    /// How the drawn images are chosen, as the log says it.
    public var drawRule: String {
        poolVariant == .authors ? "with replacement, shared by all layers" : "distinct, a new batch per layer"
    }

    /// The variant name written to logs.
    public var variantName: String? {
        switch strategy {
        case .meanPool, .maxPool, .sample: poolVariant.rawValue
        case .kmeans: kmeansRestarts > 1 ? "kmeans++/lloyd×\(kmeansRestarts)" : "kmeans++/lloyd"
        case .random: "xavier-uniform"
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
        let m = cand.tokensPerImage, drawn = options.drawnImages(gathered: cand.images)
        // The authors draw once, with replacement, for every layer.
        let shared = options.poolVariant == .authors ? (0..<drawn).map { _ in rng.int(cand.images) } : []
        for l in 0..<layers {
            switch options.strategy {
            case .kmeans:
                progress(l, layers)
                // One layer in memory at a time, however the candidates are stored.
                let images = min(cand.images, options.kmeansImages ?? cand.images), n = images * m
                let tokens = cand.tokens(layer: l, images: 0..<images)
                let r = tokens.withUnsafeBufferPointer { p in
                    kmeans(UnsafeMutablePointer(mutating: p.baseAddress!), N: n, D: D, K: Np, maxIterations: options.kmeansMaxIterations,
                           tolerance: options.kmeansTolerance, restarts: options.kmeansRestarts, seed: seed &+ UInt64(l))
                }
                out += r.centroids
                iterations += r.iterations
                inertia += r.inertia
            case .meanPool, .maxPool, .sample:
                let useMax = options.strategy == .maxPool
                if options.poolVariant == .authors {
                    out += options.strategy == .sample
                        ? authorsSample(cand, layer: l, images: shared, count: Np, rng: &rng)
                        : authorsPool(cand, layer: l, images: shared, count: Np, max: useMax, rng: &rng)
                    continue
                }
                let batch = randomBatch(images: cand.images, size: drawn, rng: &rng)
                let pool = cand.tokens(layer: l, images: batch)
                if options.strategy == .sample {
                    out += sampleTokens(pool, D: D, count: Np, rng: &rng)
                } else {
                    out += batchWindowPool(pool, images: batch.count, m: m, D: D, count: Np, max: useMax)
                }
            case .random:
                break
            }
        }
        let km = options.strategy == .kmeans
        return InitResult(prompts: out, seconds: Date().timeIntervalSince(start), gatherSeconds: cand.seconds,
                          iterations: km ? iterations : nil, inertia: km ? inertia : nil,
                          images: km ? min(cand.images, options.kmeansImages ?? cand.images) : drawn)
    }

    static func randomBatch(images: Int, size: Int, rng: inout RNG) -> [Int] {
        Array(rng.permutation(images).prefix(min(size, images)))
    }

    /// The tokens of window `p` of an image of `m` tokens cut for `count` prompts, as the authors'
    /// `prompt_generator` slices it: windows 0…count−2 hold w = ⌊m/(count−1)⌋ tokens each, the last
    /// one the remaining `m mod w` — Python's `x[:, -r:]`, which for r = 0 is the whole image.
    /// One prompt (their code divides by zero) pools the whole image.
    public static func authorsWindow(_ p: Int, tokens m: Int, count: Int) -> Range<Int> {
        guard count > 1 else { return 0..<m }
        let w = m / (count - 1)
        precondition(w >= 1, "authors' pooling needs count − 1 ≤ m")
        if p < count - 1 { return (p * w)..<((p + 1) * w) }
        let r = m % w
        return r == 0 ? 0..<m : (m - r)..<m
    }

    /// Mean- or max-pooled prompts as the authors' code makes them: every drawn image cut into
    /// `count` windows gives count·N pooled tokens, ordered window-major (index p·N + b) as their
    /// `[Np, B, D]` reshape orders them; a permutation of those keeps the first `count`. Only the
    /// kept windows are computed.
    public static func authorsPool(_ cand: Candidates, layer l: Int, images: [Int], count: Int, max useMax: Bool,
                            rng: inout RNG) -> [Float] {
        let N = images.count, m = cand.tokensPerImage, D = cand.dim
        let keep = rng.permutation(count * N).prefix(count)
        var out = [Float]()
        out.reserveCapacity(count * D)
        for k in keep {
            let tokens = cand.tokens(layer: l, images: [images[k % N]])
            out += reduce(tokens, rows: authorsWindow(k / N, tokens: m, count: count), D: D, max: useMax)
        }
        return out
    }

    /// The authors' "random" (this project's `sample`): `count` distinct tokens of the drawn images'
    /// flattened tokens (index b·m + j).
    public static func authorsSample(_ cand: Candidates, layer l: Int, images: [Int], count: Int, rng: inout RNG) -> [Float] {
        let m = cand.tokensPerImage, D = cand.dim
        var out = [Float]()
        for t in rng.permutation(images.count * m).prefix(count) {
            let j = t % m
            out += cand.tokens(layer: l, images: [images[t / m]])[(j * D)..<((j + 1) * D)]
        }
        return out
    }

    /// The mean or per-channel max of `rows` of `tokens` ([n, D]).
    static func reduce(_ tokens: [Float], rows: Range<Int>, D: Int, max useMax: Bool) -> [Float] {
        var acc = [Float](repeating: useMax ? -.infinity : 0, count: D)
        for r in rows {
            for d in 0..<D { let v = tokens[r * D + d]; acc[d] = useMax ? Swift.max(acc[d], v) : acc[d] + v }
        }
        if !useMax { for d in 0..<D { acc[d] /= Float(rows.count) } }
        return acc
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

    /// Mean or max pooling of a batch's flattened tokens ([images · m, D]) into `count` prompts
    /// under `batch-windows`: `count` windows of ⌊images·m/count⌋ consecutive tokens.
    public static func batchWindowPool(_ tokens: [Float], images: Int, m: Int, D: Int, count: Int, max useMax: Bool) -> [Float] {
        let w = Swift.max(1, images * m / count)
        return (0..<count).flatMap { k in reduce(tokens, rows: (k * w)..<Swift.min(images * m, (k + 1) * w), D: D, max: useMax) }
    }
}
