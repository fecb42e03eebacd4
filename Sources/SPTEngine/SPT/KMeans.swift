import Foundation

/// Result of a K-means run.
public struct KMeansResult: Sendable {
    public var centroids: [Float]      // [K, D]
    public var inertia: Double
    public var iterations: Int
    /// Inertia after each assignment step (non-increasing), for tests and diagnostics.
    public var history: [Double]
}

/// K-means with k-means++ seeding and Lloyd iterations whose distances come from one GEMM per
/// iteration (‖x‖² − 2x·c + ‖c‖²); empty clusters are re-seeded with the worst-fit point.
/// Stops after `maxIterations` or when inertia improves by less than `tolerance` (relative).
public func kmeans(_ X: FPtr, N: Int, D: Int, K: Int, maxIterations: Int = 100, tolerance: Double = 1e-4,
                   seed: UInt64) -> KMeansResult {
    precondition(N >= K && K > 0, "k-means needs at least K points")
    var rng = RNG(seed: seed)
    let C = Buffer([K, D]), G = Buffer([N, K])
    var xx = [Float](repeating: 0, count: N)
    for i in 0..<N { var s: Float = 0; let x = X + i * D; for d in 0..<D { s += x[d] * x[d] }; xx[i] = s }

    // k-means++: each next centre drawn with probability ∝ squared distance to the nearest one.
    let nearestBuf = Buffer([N]), nearest = nearestBuf.ptr
    nearest.update(repeating: .greatestFiniteMagnitude, count: N)
    var pick = rng.int(N)
    for k in 0..<K {
        (C.ptr + k * D).update(from: X + pick * D, count: D)
        let c = C.ptr + k * D
        Parallel.chunks(N, minChunk: 1024) { _, r in
            for i in r {
                var s: Float = 0
                let x = X + i * D
                for d in 0..<D { let t = x[d] - c[d]; s += t * t }
                if s < nearest[i] { nearest[i] = s }
            }
        }
        if k + 1 == K { break }
        var total = 0.0
        for i in 0..<N { total += Double(nearest[i]) }
        if total <= 0 { pick = rng.int(N); continue }
        var u = Double(rng.uniform()) * total
        pick = N - 1
        for i in 0..<N { u -= Double(nearest[i]); if u <= 0 { pick = i; break } }
    }

    let distBuf = Buffer([N]), dist = distBuf.ptr
    var history: [Double] = [], iterations = 0
    let chunks = Parallel.chunkCount(N, minChunk: 1024)
    var sums = [Double](repeating: 0, count: chunks * K * D), counts = [Int](repeating: 0, count: chunks * K)
    while iterations < maxIterations {
        iterations += 1
        var cc = [Float](repeating: 0, count: K)
        for k in 0..<K { let c = C.ptr + k * D; for d in 0..<D { cc[k] += c[d] * c[d] } }
        gemm(transB: true, M: N, N: K, K: D, X, lda: D, C.ptr, ldb: D, G.ptr, ldc: K)
        for i in sums.indices { sums[i] = 0 }
        for i in counts.indices { counts[i] = 0 }
        sums.withUnsafeMutableBufferPointer { sp in
            counts.withUnsafeMutableBufferPointer { cp in
                Parallel.chunks(N, minChunk: 1024) { t, r in
                    for i in r {
                        let g = G.ptr + i * K
                        var best = 0, bestV = cc[0] - 2 * g[0]
                        for k in 1..<K { let v = cc[k] - 2 * g[k]; if v < bestV { bestV = v; best = k } }
                        dist[i] = max(0, xx[i] + bestV)
                        cp[t * K + best] += 1
                        let s = sp.baseAddress! + (t * K + best) * D, x = X + i * D
                        for d in 0..<D { s[d] += Double(x[d]) }
                    }
                }
            }
        }
        var inertia = 0.0
        for i in 0..<N { inertia += Double(dist[i]) }
        history.append(inertia)
        // Update step; empty clusters take the points that fit worst.
        var taken = Set<Int>()
        for k in 0..<K {
            var n = 0
            for t in 0..<chunks { n += counts[t * K + k] }
            let c = C.ptr + k * D
            if n == 0 {
                var worst = -1
                for i in 0..<N where !taken.contains(i) && (worst < 0 || dist[i] > dist[worst]) { worst = i }
                taken.insert(worst)
                c.update(from: X + worst * D, count: D)
                dist[worst] = 0
                continue
            }
            for d in 0..<D {
                var s = 0.0
                for t in 0..<chunks { s += sums[(t * K + k) * D + d] }
                c[d] = Float(s / Double(n))
            }
        }
        if history.count >= 2 {
            let prev = history[history.count - 2]
            if prev - inertia <= tolerance * prev { break }
        }
    }
    return KMeansResult(centroids: C.array, inertia: history.last ?? 0, iterations: iterations, history: history)
}
