import COpenBLAS
import Foundation

/// The plane the prompt map draws each block in (docs/METHOD.md §4.4): the first two principal
/// axes of the probe images' patch tokens at the block's input (prefix tokens and prompts
/// excluded), fixed at a run's first map so that motion over training is the tokens' and the
/// prompts', not the axes'. Values are rounded to 6 significant digits — what the log keeps — so
/// that a run resumed from its checkpoint projects exactly as before. Maps keep 6 significant
/// digits too: the two engines' maps then agree to about 1e-6 of each value.
public struct ProjectionBasis: Codable, Equatable, Sendable {
    /// Per block: the tokens' mean [D]; the two unit axes [2·D] (first axis, then second), each
    /// signed so that its largest-magnitude component is positive; and the share of the tokens'
    /// variance each axis explains.
    public var centre: [[Double]], axes: [[Double]], explained: [[Double]]
    public init(centre: [[Double]] = [], axes: [[Double]] = [], explained: [[Double]] = []) {
        self.centre = centre; self.axes = axes; self.explained = explained
    }
}

/// One map of every block: the prompts' and the sampled patch tokens' coordinates, x then y per
/// point ([2·Np] and [2·s] per block), and each prompt's distance to its nearest probe
/// patch token in units of those tokens' spread (root-mean-square distance to their mean).
public struct PromptMapSnapshot: Equatable, Sendable {
    public var prompts: [[Double]] = [], patches: [[Double]] = [], nearest: [[Double]] = []
    /// The image view's overlays on the probe's first image, per block: the prompt each patch is
    /// nearest to, and each of the first `imagePrompts` prompts' attention over the patches
    /// (percent of that prompt's largest, heads averaged), prompt-major.
    public var imageNearest: [[Double]] = [], imageAttention: [[Double]] = []
}

public enum PromptMap {
    /// The most patch tokens a map keeps per block (a run log's size bound).
    public static let maxPatches = 256
    /// The most prompts whose attention over the first probe image a map keeps.
    public static let imagePrompts = 16
    /// The longest side of the probe image a run log keeps.
    public static let imageSide = 64

    /// Which of `n` flattened probe tokens (image-major, index b·m + j) a map keeps: evenly strided,
    /// the same rule in `spt_torch.prompt_map`.
    public static func sample(tokens n: Int) -> [Int] {
        let s = min(n, maxPatches)
        return (0..<s).map { $0 * n / s }
    }

    static func rounded6(_ v: Double) -> Double { Double(String(format: "%.6g", v))! }

    /// A block input's patch tokens [B·m, D], contiguous (image-major), from `x` [B, T, D].
    static func patchTokens(_ x: UnsafePointer<Float>, B: Int, T: Int, P: Int, Np: Int, D: Int) -> [Float] {
        let m = T - P - Np
        var out = [Float](repeating: 0, count: B * m * D)
        out.withUnsafeMutableBufferPointer { o in
            for b in 0..<B { (o.baseAddress! + b * m * D).update(from: x + (b * T + P + Np) * D, count: m * D) }
        }
        return out
    }

    /// The principal plane of `n` tokens [n, D]: (centre, axes, explained), rounded as the log keeps them.
    static func basis(_ x: UnsafePointer<Float>, n: Int, D: Int) -> (centre: [Double], axes: [Double], explained: [Double]) {
        var centre = [Double](repeating: 0, count: D)
        for t in 0..<n { for d in 0..<D { centre[d] += Double(x[t * D + d]) } }
        for d in 0..<D { centre[d] /= Double(n) }
        var xc = [Double](repeating: 0, count: n * D)
        for t in 0..<n { for d in 0..<D { xc[t * D + d] = Double(x[t * D + d]) - centre[d] } }
        var cov = [Double](repeating: 0, count: D * D)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(D), Int32(D), Int32(n), 1 / Double(n), xc, Int32(D), xc, Int32(D), 0, &cov, Int32(D))
        let trace = (0..<D).reduce(0.0) { $0 + cov[$1 * D + $1] }
        // LAPACK is column-major; the matrix is symmetric. Eigenvalues ascend; vector j is column j.
        var w = [Double](repeating: 0, count: D), info: Int32 = 0, n32 = Int32(D), lwork = Int32(-1), query = 0.0
        dsyev_("V", "U", &n32, &cov, &n32, &w, &query, &lwork, &info, 1, 1)
        lwork = Int32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_("V", "U", &n32, &cov, &n32, &w, &work, &lwork, &info, 1, 1)
        precondition(info == 0, "dsyev failed: \(info)")
        var axes: [Double] = []
        for j in [D - 1, D - 2] {
            var v = Array(cov[(j * D)..<((j + 1) * D)])
            let top = v.indices.max { abs(v[$0]) < abs(v[$1]) }!
            if v[top] < 0 { v = v.map { -$0 } }
            axes += v
        }
        return (centre.map(rounded6), axes.map(rounded6), [w[D - 1], w[D - 2]].map { rounded6(trace > 0 ? $0 / trace : 0) })
    }

    /// The image view's overlays from one block's input `x` [B, T, D] and attention probabilities
    /// `att` [B, H, T, T], on image 0.
    static func imageOverlays(_ x: UnsafePointer<Float>, att: UnsafePointer<Float>, T: Int, P: Int, Np: Int, D: Int, H: Int) -> (nearest: [Double], attention: [Double]) {
        let m = T - P - Np
        let nearest = (0..<m).map { j -> Double in
            let t = x + (P + Np + j) * D
            var best = Double.infinity, at = 0
            for k in 0..<Np {
                let p = x + (P + k) * D
                var d2 = 0.0
                for d in 0..<D { let e = Double(t[d]) - Double(p[d]); d2 += e * e }
                if d2 < best { best = d2; at = k }
            }
            return Double(at)
        }
        var attention: [Double] = []
        for k in 0..<min(Np, imagePrompts) {
            var row = [Double](repeating: 0, count: m)
            for h in 0..<H {
                let a = att + (h * T + P + k) * T + P + Np
                for j in 0..<m { row[j] += Double(a[j]) / Double(H) }
            }
            let top = row.max() ?? 0
            attention += row.map { top > 0 ? ($0 / top * 100).rounded() : 0 }
        }
        return (nearest, attention)
    }

    /// The probe's first image as a run log keeps it for the image view: 8-bit pixels (the model
    /// input un-normalized), channels interleaved, rows top down, area-averaged by the smallest
    /// whole factor that brings the longer side to at most `imageSide`.
    public static func probeImage(_ x: UnsafePointer<Float>, channels C: Int, size S: Int, mean: [Float], std: [Float]) -> (width: Int, height: Int, bytes: [UInt8]) {
        let f = (S + imageSide - 1) / imageSide, w = S / f
        var out = [UInt8](repeating: 0, count: w * w * C)
        for y in 0..<w {
            for xx in 0..<w {
                for c in 0..<C {
                    var sum = 0.0
                    for dy in 0..<f { for dx in 0..<f { sum += Double(x[(c * S + y * f + dy) * S + xx * f + dx]) } }
                    let v = (sum / Double(f * f) * Double(std[c]) + Double(mean[c])) * 255
                    out[(y * w + xx) * C + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return (w, w, out)
    }

    /// One block's map from its input tokens `x` [B, T, D] — prompts at P..<P+Np (averaged over
    /// the images: deep prompts and block 0's are the same in every image) — and its patch tokens
    /// `tokens` [B·m, D] (`patchTokens`).
    static func block(_ x: UnsafePointer<Float>, tokens: [Float], B: Int, T: Int, P: Int, Np: Int, D: Int, centre: [Double], axes: [Double])
        -> (prompts: [Double], patches: [Double], nearest: [Double]) {
        let n = tokens.count / D
        func project(_ v: (Int) -> Double) -> [Double] {
            var a = 0.0, b = 0.0
            for d in 0..<D { let e = v(d) - centre[d]; a += e * axes[d]; b += e * axes[D + d] }
            return [rounded6(a), rounded6(b)]
        }
        var promptMeans = [[Double]](repeating: [Double](repeating: 0, count: D), count: Np)
        for b in 0..<B { for k in 0..<Np { let p = x + (b * T + P + k) * D; for d in 0..<D { promptMeans[k][d] += Double(p[d]) / Double(B) } } }
        let prompts = promptMeans.flatMap { p in project { p[$0] } }
        let patches = sample(tokens: n).flatMap { i in project { Double(tokens[i * D + $0]) } }
        // Spread of this probe's tokens, and each prompt's nearest token: |t|² + |p|² − 2 t·p with
        // the products in one sgemm (ViT-B: 6272 tokens × 50 prompts × 768 per block).
        var mean = [Double](repeating: 0, count: D), sq = [Double](repeating: 0, count: n)
        for i in 0..<n { for d in 0..<D { let t = Double(tokens[i * D + d]); mean[d] += t; sq[i] += t * t } }
        for d in 0..<D { mean[d] /= Double(n) }
        let spread = (max(0, sq.reduce(0, +) / Double(n) - mean.reduce(0) { $0 + $1 * $1 })).squareRoot()
        var pf = promptMeans.flatMap { $0.map(Float.init) }, dots = [Float](repeating: 0, count: n * Np)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(Np), Int32(D), 1, tokens, Int32(D), &pf, Int32(D), 0, &dots, Int32(Np))
        let nearest = (0..<Np).map { k -> Double in
            let pp = promptMeans[k].reduce(0) { $0 + $1 * $1 }
            var best = Double.infinity, at = 0
            for i in 0..<n { let d2 = sq[i] + pp - 2 * Double(dots[i * Np + k]); if d2 < best { best = d2; at = i } }
            // The expansion cancels near 0: the chosen token's distance directly.
            let d2 = (0..<D).reduce(0.0) { let e = Double(tokens[at * D + $1]) - promptMeans[k][$1]; return $0 + e * e }
            return rounded6(d2.squareRoot() / max(spread, 1e-30))
        }
        return (prompts, patches, nearest)
    }
}
