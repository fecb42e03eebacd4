/// How much attention the frozen backbone gives the prompts (docs/METHOD.md §4.3): per block, the
/// share of the attention mass — softmax probabilities summed over the prompt keys — that the
/// class token's query gives the prompts, and the same averaged over the patch tokens' queries;
/// each averaged over heads and images. The mechanism behind NMI: prompts no query attends to
/// cannot change what the backbone computes.
public enum PromptAttention {
    /// One block's shares from its attention probabilities `att` [B, H, T, T] (rows: queries);
    /// `cls` is nil for a backbone without a class token.
    static func block(_ att: UnsafePointer<Float>, config c: ViTConfig, prompts Np: Int, B: Int) -> (cls: Double?, patches: Double) {
        let H = c.heads, T = c.tokens(prompts: Np), P = c.prefixTokens, m = c.numPatches
        // The mass a query row gives keys P..<P+Np.
        func share(_ row: UnsafePointer<Float>) -> Double {
            var s = 0.0
            for k in P..<(P + Np) { s += Double(row[k]) }
            return s
        }
        var cls = 0.0, patches = 0.0
        for bh in 0..<(B * H) {
            let a = att + bh * T * T
            if c.classToken { cls += share(a) }
            var sum = 0.0
            for j in 0..<m { sum += share(a + (P + Np + j) * T) }
            patches += sum / Double(m)
        }
        let n = Double(B * H)
        return (c.classToken ? cls / n : nil, patches / n)
    }
}
