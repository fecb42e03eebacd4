import Foundation

/// Normalized mutual information between prompt and patch tokens (docs/METHOD.md §4).
public enum NMI {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Scores from the raw block-input tokens: p·e / √D.
        case tokens
        /// Scores from the block's own query/key projections: q·k / √(D/H), averaged over heads.
        case attention
    }

    public enum Normalization: String, Codable, Sendable, CaseIterable {
        /// I / √(H_P · H_E)
        case sqrt
        /// 2I / (H_P + H_E)
        case arithmetic
    }

    /// NMI of a score matrix s [Np, m]: joint π ∝ σ(s). Zero when either entropy is zero.
    public static func fromScores(_ s: [Double], prompts: Int, patches: Int, normalization: Normalization) -> Double {
        var pi = s.map { 1 / (1 + exp(-$0)) }
        let total = pi.reduce(0, +)
        guard total > 0 else { return 0 }
        for i in pi.indices { pi[i] /= total }
        var pk = [Double](repeating: 0, count: prompts), pj = [Double](repeating: 0, count: patches)
        for k in 0..<prompts { for j in 0..<patches { pk[k] += pi[k * patches + j]; pj[j] += pi[k * patches + j] } }
        var mi = 0.0
        for k in 0..<prompts {
            for j in 0..<patches {
                let v = pi[k * patches + j]
                if v > 0 { mi += v * log(v / (pk[k] * pj[j])) }
            }
        }
        mi = max(0, mi) // MI ≥ 0; a product joint sums to a rounding-error negative
        let hp = -pk.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        let he = -pj.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        switch normalization {
        case .sqrt: return hp > 0 && he > 0 ? mi / (hp * he).squareRoot() : 0
        case .arithmetic: return hp + he > 0 ? 2 * mi / (hp + he) : 0
        }
    }

    /// Per-block NMI of the model with its prompts on B images ([B, C, H, W], normalized),
    /// averaged over the images (`PromptProbe.measure`, which also measures attention to the prompts).
    public static func perBlock(_ model: ViTClassifier, images: FPtr, B: Int, mode: Mode, normalization: Normalization) -> [Double] {
        PromptProbe.measure(model, images: images, B: B, mode: mode, normalization: normalization).nmi
    }

    /// One block's NMI from its input tokens (and q, k, v). Block i's input holds the prompts
    /// after the class and register tokens, patches after them.
    static func block(_ a: BlockActivations, model: ViTClassifier, B: Int, mode: Mode, normalization: Normalization) -> Double {
        let c = model.config, Np = model.prompts.count, m = c.numPatches, D = c.dim, T = c.tokens(prompts: Np), P = c.prefixTokens
        var total = 0.0
        for b in 0..<B {
            var s = [Double](repeating: 0, count: Np * m)
            switch mode {
            case .tokens:
                let x = a.xin.ptr + b * T * D, scale = 1 / Double(D).squareRoot()
                for k in 0..<Np {
                    let p = x + (P + k) * D
                    for j in 0..<m {
                        let e = x + (P + Np + j) * D
                        var dot: Float = 0
                        for d in 0..<D { dot += p[d] * e[d] }
                        s[k * m + j] = Double(dot) * scale
                    }
                }
            case .attention:
                let H = c.heads, dh = c.headDim, q = a.qkv.ptr + b * T * 3 * D, scale = 1 / Double(dh).squareRoot()
                for k in 0..<Np {
                    for j in 0..<m {
                        var acc = 0.0
                        for h in 0..<H {
                            let qk = q + (P + k) * 3 * D + h * dh, kj = q + (P + Np + j) * 3 * D + D + h * dh
                            var dot: Float = 0
                            for d in 0..<dh { dot += qk[d] * kj[d] }
                            acc += Double(dot)
                        }
                        s[k * m + j] = acc / Double(H) * scale
                    }
                }
            }
            total += fromScores(s, prompts: Np, patches: m, normalization: normalization)
        }
        return total / Double(B)
    }
}
