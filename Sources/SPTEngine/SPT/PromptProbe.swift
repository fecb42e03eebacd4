/// What the trainer measures of the prompts on its probe batch, in one inference pass: per-block
/// NMI between prompt and patch tokens, the attention the prompts get (`PromptAttention`), and
/// on request where they sit among the patch tokens (`PromptMap`).
public struct PromptProbeMeasurement: Sendable {
    public var nmi: [Double]
    /// Per block: the class token's attention share to the prompts (nil without a class token).
    public var attentionCLS: [Double]?
    /// Per block: the patch tokens' mean attention share to the prompts.
    public var attentionPatches: [Double]
    /// The prompt map, when asked for.
    public var map: PromptMapSnapshot?
}

public enum PromptProbe {
    /// The pass runs in fp32 whatever the model's precision: it measures the prompts under the
    /// backbone, and bf16's rounding of the tokens moved NMI by up to 2% (shipped `mae-tiny`).
    /// `map`: also draw the prompt map in `basis`, which an empty basis (a run's first map) is
    /// computed into from this pass's tokens.
    public static func measure(_ model: ViTClassifier, images: FPtr, B: Int, mode: NMI.Mode, normalization: NMI.Normalization,
                               map basis: UnsafeMutablePointer<ProjectionBasis>? = nil) -> PromptProbeMeasurement {
        let c = model.config, Np = model.prompts.count, T = c.tokens(prompts: Np), P = c.prefixTokens, D = c.dim
        guard Np > 0 else { return PromptProbeMeasurement(nmi: [], attentionCLS: nil, attentionPatches: []) }
        var nmi = [Double](repeating: 0, count: c.depth), cls = nmi, patches = nmi, rng = RNG(seed: 0)
        var map = basis.map { _ in PromptMapSnapshot() }
        model.forward(images: images, B: B, inference: true, fp32: true, observe: { i, a in
            nmi[i] = NMI.block(a, model: model, B: B, mode: mode, normalization: normalization)
            let s = PromptAttention.block(a.att.ptr, config: c, prompts: Np, B: B)
            cls[i] = s.cls ?? 0; patches[i] = s.patches
            guard let basis else { return }
            if basis.pointee.centre.count == i {
                // The block's patch tokens, contiguous, for the principal axes.
                let m = c.numPatches
                var tokens = [Float](repeating: 0, count: B * m * D)
                for b in 0..<B { for j in 0..<m { for d in 0..<D { tokens[(b * m + j) * D + d] = a.xin.ptr[(b * T + P + Np + j) * D + d] } } }
                let p = PromptMap.basis(tokens, n: B * m, D: D)
                basis.pointee.centre.append(p.centre); basis.pointee.axes.append(p.axes); basis.pointee.explained.append(p.explained)
            }
            let r = PromptMap.block(a.xin.ptr, B: B, T: T, P: P, Np: Np, D: D, centre: basis.pointee.centre[i], axes: basis.pointee.axes[i])
            map!.prompts.append(r.prompts); map!.patches.append(r.patches); map!.nearest.append(r.nearest)
            let o = PromptMap.imageOverlays(a.xin.ptr, att: a.att.ptr, T: T, P: P, Np: Np, D: D, H: c.heads)
            map!.imageNearest.append(o.nearest); map!.imageAttention.append(o.attention)
        }, rng: &rng)
        return PromptProbeMeasurement(nmi: nmi, attentionCLS: c.classToken ? cls : nil, attentionPatches: patches, map: map)
    }
}
