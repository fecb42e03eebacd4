import COpenBLAS
import Foundation

/// How different a layer's initial prompts are from each other and where they sit among the
/// patch tokens (docs/METHOD.md §3.6): a pooling that averages across images gives near-copies of
/// one vector, which a mean pairwise cosine near 1 and an effective rank near 1 show.
public struct PromptDiversity: Equatable, Sendable {
    /// Mean cosine similarity over the Np(Np−1)/2 pairs of prompts (nil for one prompt).
    public var cosine: Double?
    /// exp of the entropy of the normalized singular values of the [Np, D] prompts (Roy &
    /// Vetterli 2007): 1 for copies of one vector, Np for orthogonal prompts of equal norm.
    public var effectiveRank: Double
    /// Mean over prompts of the distance to the nearest reference token, in units of the
    /// reference tokens' spread (root-mean-square distance to their mean).
    public var nearest: Double

    /// `prompts` [Np, D]; `tokens` [n, D] the reference tokens of the same layer.
    public static func measure(prompts: [Float], tokens: [Float], D: Int) -> PromptDiversity {
        let Np = prompts.count / D, n = tokens.count / D
        precondition(Np >= 1 && n >= 1)
        func dot(_ a: Int, _ b: Int) -> Double {
            var s = 0.0
            for d in 0..<D { s += Double(prompts[a * D + d]) * Double(prompts[b * D + d]) }
            return s
        }
        var gram = [Double](repeating: 0, count: Np * Np)
        for a in 0..<Np { for b in a..<Np { let v = dot(a, b); gram[a * Np + b] = v; gram[b * Np + a] = v } }
        var cosine: Double?
        if Np > 1 {
            var sum = 0.0
            for a in 0..<Np { for b in (a + 1)..<Np { sum += gram[a * Np + b] / max(1e-30, (gram[a * Np + a] * gram[b * Np + b]).squareRoot()) } }
            cosine = sum / Double(Np * (Np - 1) / 2)
        }
        let sigma = eigenvalues(symmetric: gram, n: Np).map { max(0, $0).squareRoot() }
        let total = sigma.reduce(0, +)
        let entropy = total > 0 ? sigma.reduce(0.0) { h, s in s > 0 ? h - s / total * log(s / total) : h } : 0
        // The reference cloud's spread, and each prompt's nearest token.
        var mean = [Double](repeating: 0, count: D)
        for t in 0..<n { for d in 0..<D { mean[d] += Double(tokens[t * D + d]) } }
        for d in 0..<D { mean[d] /= Double(n) }
        var spread = 0.0
        for t in 0..<n { for d in 0..<D { let e = Double(tokens[t * D + d]) - mean[d]; spread += e * e } }
        spread = (spread / Double(n)).squareRoot()
        var nearest = 0.0
        prompts.withUnsafeBufferPointer { p in
            tokens.withUnsafeBufferPointer { t in
                for k in 0..<Np {
                    var best = Float.infinity
                    for j in 0..<n { best = min(best, squaredDistance(p.baseAddress! + k * D, t.baseAddress! + j * D, D)) }
                    nearest += Double(best).squareRoot()
                }
            }
        }
        return PromptDiversity(cosine: cosine, effectiveRank: exp(entropy), nearest: nearest / Double(Np) / max(spread, 1e-30))
    }

    /// Eigenvalues of a symmetric n×n matrix (LAPACK dsyev).
    static func eigenvalues(symmetric m: [Double], n: Int) -> [Double] {
        var a = m, w = [Double](repeating: 0, count: n), info: Int32 = 0, n32 = Int32(n)
        var lwork = Int32(-1), query = 0.0
        dsyev_("N", "U", &n32, &a, &n32, &w, &query, &lwork, &info, 1, 1)
        lwork = Int32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_("N", "U", &n32, &a, &n32, &w, &work, &lwork, &info, 1, 1)
        precondition(info == 0, "dsyev failed: \(info)")
        return w
    }
}
