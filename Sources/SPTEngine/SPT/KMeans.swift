import Foundation

/// Result of a K-means run.
public struct KMeansResult: Sendable {
    public var centroids: [Float]      // [K, D]
    public var inertia: Double
    public var iterations: Int
    /// Inertia after each step (non-increasing), for tests and diagnostics.
    public var history: [Double]
}

/// K-means: greedy k-means++ seeding (as scikit-learn: 2 + ⌊ln K⌋ candidates per centre, the
/// one that lowers the potential most wins), then Lloyd iterations accelerated with Hamerly's
/// bounds — a point whose distance to its centre provably stays below half the gap to every
/// other centre is not looked at again, and centroid sums are updated only for points that
/// move. Every iteration gives the exact result of a plain Lloyd step. Empty clusters are
/// re-seeded with the worst-fit point. Stops when no point changes centre, after `maxIterations`,
/// or, with a `tolerance` > 0, when the inertia improves by less than that (relative; the default
/// 0 runs to convergence: at ViT scale that reaches scikit-learn's and faiss's inertia, and the
/// bounds make the late iterations cheap). A last assignment step then labels every point with
/// its nearest final centroid, and `inertia` is measured on that labelling (as scikit-learn's).
/// With `restarts` > 1 the whole procedure runs from that many seedings and the lowest inertia wins.
public func kmeans(_ X: FPtr, N: Int, D: Int, K: Int, maxIterations: Int = 100, tolerance: Double = 0,
                   restarts: Int = 1, seed: UInt64) -> KMeansResult {
    precondition(N >= K && K > 0, "k-means needs at least K points")
    precondition(restarts >= 1, "k-means needs at least one start")
    var best: KMeansResult?
    // As scikit-learn's n_init: independent seedings, the lowest inertia kept. Start r is seeded with
    // seed + r·φ·2⁶⁴, so one start is the single-start result. A later start must be lower by more
    // than 1e-6 relative: starts that reach one optimum (often with the centroids in another order)
    // differ only by summation rounding, and spt_torch must keep the same one.
    for r in 0..<restarts {
        let run = kmeansOnce(X, N: N, D: D, K: K, maxIterations: maxIterations, tolerance: tolerance,
                             seed: seed &+ UInt64(r) &* 0x9E37_79B9_7F4A_7C15)
        if best == nil || run.inertia < best!.inertia * (1 - 1e-6) { best = run }
    }
    return best!
}

private func kmeansOnce(_ X: FPtr, N: Int, D: Int, K: Int, maxIterations: Int, tolerance: Double, seed: UInt64) -> KMeansResult {
    var state = KMeansState(X: X, N: N, D: D, K: K)
    defer { state.deallocate() }
    state.seed(rng: RNG(seed: seed))
    state.assign(full: true)
    var history: [Double] = [], iterations = 0
    while iterations < maxIterations {
        iterations += 1
        history.append(state.updateCentroids())
        if history.count >= 2, history[history.count - 2] - history.last! <= tolerance * history[history.count - 2] { break }
        if state.assign(full: false) == 0 { break }
    }
    state.assign(full: false)
    let inertia = state.exactInertia()
    history.append(min(inertia, history.last ?? inertia))
    return KMeansResult(centroids: Array(UnsafeBufferPointer(start: state.C, count: K * D)), inertia: inertia,
                        iterations: iterations, history: history)
}

/// ‖a − b‖² over `n` floats, vectorized.
@inline(__always)
func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), d = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while d + 16 <= n {
        let u = ra.loadUnaligned(fromByteOffset: 4 * d, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: 4 * d, as: SIMD8<Float>.self)
        let v = ra.loadUnaligned(fromByteOffset: 4 * d + 32, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: 4 * d + 32, as: SIMD8<Float>.self)
        acc0.addProduct(u, u); acc1.addProduct(v, v)
        d += 16
    }
    var s = (acc0 + acc1).sum()
    while d < n { let t = a[d] - b[d]; s += t * t; d += 1 }
    return s
}

/// The working buffers of one K-means run: data, centroids, per-point labels and Hamerly bounds
/// (`upper` ≥ distance to the own centroid, `lower` ≤ distance to every other one), and the
/// centroid sums in Double, kept per worker chunk and combined in chunk order (deterministic).
private struct KMeansState {
    let X: FPtr, N: Int, D: Int, K: Int
    let C: FPtr, previous: FPtr
    let label: UnsafeMutablePointer<Int32>
    let upper: FPtr, lower: FPtr
    let chunks: Int
    var sums: [Double], counts: [Int]           // [chunks][K][D], [chunks][K]
    var sumOfSquares = 0.0                      // Σ‖x‖², for the inertia of means

    init(X: FPtr, N: Int, D: Int, K: Int) {
        self.X = X; self.N = N; self.D = D; self.K = K
        C = .allocate(capacity: K * D); previous = .allocate(capacity: K * D)
        label = .allocate(capacity: N); upper = .allocate(capacity: N); lower = .allocate(capacity: N)
        label.initialize(repeating: 0, count: N)
        chunks = Parallel.chunkCount(N, minChunk: 1024)
        sums = [Double](repeating: 0, count: chunks * K * D); counts = [Int](repeating: 0, count: chunks * K)
        for i in 0..<N { for d in 0..<D { sumOfSquares += Double(X[i * D + d]) * Double(X[i * D + d]) } }
    }

    func deallocate() { C.deallocate(); previous.deallocate(); label.deallocate(); upper.deallocate(); lower.deallocate() }

    /// Greedy k-means++.
    mutating func seed(rng: RNG) {
        var rng = rng
        let trials = 2 + Int(log(Double(K)))
        let nearest = FPtr.allocate(capacity: N), trial = FPtr.allocate(capacity: trials * N)
        defer { nearest.deallocate(); trial.deallocate() }
        let (X, N, D) = (self.X, self.N, self.D)
        let first = rng.int(N)
        C.update(from: X + first * D, count: D)
        Parallel.chunks(N, minChunk: 1024) { _, r in for i in r { nearest[i] = squaredDistance(X + i * D, X + first * D, D) } }
        var cumulative = [Double](repeating: 0, count: N)
        for k in 1..<K {
            var total = 0.0
            for i in 0..<N { total += Double(nearest[i]); cumulative[i] = total }
            let picks: [Int] = (0..<trials).map { _ in
                guard total > 0 else { return rng.int(N) }
                let u = Double(rng.uniform()) * total
                var lo = 0, hi = N - 1
                while lo < hi { let m = (lo + hi) / 2; if cumulative[m] < u { lo = m + 1 } else { hi = m } }
                return lo
            }
            var potential = [Double](repeating: 0, count: chunks * trials)
            potential.withUnsafeMutableBufferPointer { pot in
                Parallel.chunks(N, minChunk: 1024) { t, r in
                    for i in r {
                        for (j, p) in picks.enumerated() {
                            let d = min(nearest[i], squaredDistance(X + i * D, X + p * D, D))
                            trial[j * N + i] = d
                            pot[t * trials + j] += Double(d)
                        }
                    }
                }
            }
            var best = 0, bestPotential = Double.infinity
            for j in 0..<trials {
                var s = 0.0
                for t in 0..<chunks { s += potential[t * trials + j] }
                if s < bestPotential { bestPotential = s; best = j }
            }
            (C + k * D).update(from: X + picks[best] * D, count: D)
            nearest.update(from: trial + best * N, count: N)
        }
    }

    /// Labels points with their nearest centroid; with `full` every distance is computed and
    /// the sums are rebuilt, otherwise Hamerly's test skips points that cannot have moved and
    /// the sums follow the points that did. Returns how many points changed label.
    @discardableResult
    mutating func assign(full: Bool) -> Int {
        let (X, N, D, K, C, label, upper, lower) = (self.X, self.N, self.D, self.K, self.C, self.label, self.upper, self.lower)
        // half the distance from each centroid to its nearest other centroid
        var half = [Float](repeating: .infinity, count: K)
        for a in 0..<K { for b in 0..<K where b != a { half[a] = min(half[a], 0.5 * squaredDistance(C + a * D, C + b * D, D).squareRoot()) } }
        if full { for i in sums.indices { sums[i] = 0 }; for i in counts.indices { counts[i] = 0 } }
        var moved = [Int](repeating: 0, count: chunks)
        sums.withUnsafeMutableBufferPointer { sp in
            counts.withUnsafeMutableBufferPointer { cp in
                moved.withUnsafeMutableBufferPointer { mp in
                    Parallel.chunks(N, minChunk: 1024) { t, r in
                        let s = sp.baseAddress! + t * K * D, c = cp.baseAddress! + t * K
                        for i in r {
                            let x = X + i * D
                            let own = Int(label[i])
                            if !full {
                                let bound = max(half[own], lower[i])
                                if upper[i] <= bound { continue }
                                upper[i] = squaredDistance(x, C + own * D, D).squareRoot()
                                if upper[i] <= bound { continue }
                            }
                            var d1 = Float.infinity, d2 = Float.infinity, best = 0
                            for k in 0..<K {
                                let d = squaredDistance(x, C + k * D, D)
                                if d < d1 { d2 = d1; d1 = d; best = k } else if d < d2 { d2 = d }
                            }
                            upper[i] = d1.squareRoot(); lower[i] = d2.squareRoot()
                            if full {
                                label[i] = Int32(best); c[best] += 1
                                for d in 0..<D { s[best * D + d] += Double(x[d]) }
                            } else if best != own {
                                label[i] = Int32(best); c[best] += 1; c[own] -= 1; mp[t] += 1
                                for d in 0..<D { s[best * D + d] += Double(x[d]); s[own * D + d] -= Double(x[d]) }
                            }
                        }
                    }
                }
            }
        }
        return moved.reduce(0, +)
    }

    /// Moves each centroid to the mean of its points (an empty cluster takes the worst-fit
    /// point), loosens the bounds by how far centroids moved, and returns the inertia of the
    /// labelling about the new means: Σ‖x‖² − Σₖ ‖Sₖ‖²/nₖ.
    mutating func updateCentroids() -> Double {
        for k in 0..<K where count(k) == 0 { repairEmpty(k) }
        previous.update(from: C, count: K * D)
        var inertia = sumOfSquares
        for k in 0..<K {
            let n = Double(count(k))
            var norm = 0.0
            for d in 0..<D {
                var s = 0.0
                for t in 0..<chunks { s += sums[(t * K + k) * D + d] }
                C[k * D + d] = Float(s / n)
                norm += s * s
            }
            inertia -= norm / n
        }
        let drift = (0..<K).map { squaredDistance(previous + $0 * D, C + $0 * D, D).squareRoot() }
        let largest = drift.indices.max { drift[$0] < drift[$1] }!
        let secondLargest = drift.indices.filter { $0 != largest }.map { drift[$0] }.max() ?? 0
        let (label, upper, lower) = (self.label, self.upper, self.lower)
        Parallel.chunks(N, minChunk: 4096) { _, r in
            for i in r {
                let own = Int(label[i])
                upper[i] += drift[own]
                lower[i] -= own == largest ? secondLargest : drift[largest]
            }
        }
        return max(0, inertia)
    }

    private func count(_ k: Int) -> Int { (0..<chunks).reduce(0) { $0 + counts[$1 * K + k] } }

    /// Gives an empty cluster the point farthest from its own centroid.
    private mutating func repairEmpty(_ k: Int) {
        var worst = -1, worstD: Float = -1
        for i in 0..<N where count(Int(label[i])) > 1 {
            let d = squaredDistance(X + i * D, C + Int(label[i]) * D, D)
            if d > worstD { worstD = d; worst = i }
        }
        guard worst >= 0 else { return }
        let own = Int(label[worst]), x = X + worst * D
        counts[own] -= 1; counts[k] += 1
        for d in 0..<D { sums[own * D + d] -= Double(x[d]); sums[k * D + d] += Double(x[d]) }
        label[worst] = Int32(k)
        upper[worst] = squaredDistance(x, C + k * D, D).squareRoot(); lower[worst] = 0
    }

    /// Σ‖x − c(label)‖² over all points, computed directly.
    func exactInertia() -> Double {
        var parts = [Double](repeating: 0, count: chunks)
        let (X, D, C, label) = (self.X, self.D, self.C, self.label)
        parts.withUnsafeMutableBufferPointer { p in
            Parallel.chunks(N, minChunk: 1024) { t, r in
                for i in r { p[t] += Double(squaredDistance(X + i * D, C + Int(label[i]) * D, D)) }
            }
        }
        return parts.reduce(0, +)
    }
}
