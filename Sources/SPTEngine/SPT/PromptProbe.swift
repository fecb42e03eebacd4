/// What the trainer measures of the prompts on its probe batch, in one inference pass: per-block
/// NMI between prompt and patch tokens, the attention the prompts get (`PromptAttention`), and
/// on request where they sit among the patch tokens (`PromptMap`).
public struct PromptProbeMeasurement: Sendable {
    public var nmi: [Double]
    /// Per block: the class token's attention share to the prompts (nil without a class token).
    public var attentionCLS: [Double]?
    /// Per block: the patch tokens' mean attention share to the prompts.
    public var attentionPatches: [Double]
    /// The prompt map, when asked for, and the plane it was drawn in.
    public var map: PromptMapSnapshot?
    public var basis: ProjectionBasis?
}

public enum PromptProbe {
    /// The pass runs in fp32 whatever the model's precision: it measures the prompts under the
    /// backbone, and bf16's rounding of the tokens moved NMI by up to 2% (shipped `mae-tiny`).
    /// `map`: also draw the prompt map in this plane; an empty one (a run's first map) is computed
    /// from this pass's tokens and returned with the measurement.
    public static func measure(_ model: ViTClassifier, images: FPtr, B: Int, mode: NMI.Mode, normalization: NMI.Normalization,
                               map plane: ProjectionBasis? = nil) -> PromptProbeMeasurement {
        let c = model.config, Np = model.prompts.count, T = c.tokens(prompts: Np), P = c.prefixTokens, D = c.dim
        guard Np > 0 else { return PromptProbeMeasurement(nmi: [], attentionCLS: nil, attentionPatches: []) }
        var nmi = [Double](repeating: 0, count: c.depth), cls = nmi, patches = nmi, rng = RNG(seed: 0)
        var map = plane.map { _ in PromptMapSnapshot() }, basis = plane
        model.forward(images: images, B: B, inference: true, fp32: true, observe: { i, a in
            nmi[i] = NMI.block(a, model: model, B: B, mode: mode, normalization: normalization)
            let s = PromptAttention.block(a.att.ptr, config: c, prompts: Np, B: B)
            cls[i] = s.cls ?? 0; patches[i] = s.patches
            guard basis != nil else { return }
            let tokens = PromptMap.patchTokens(a.xin.ptr, B: B, T: T, P: P, Np: Np, D: D)
            if basis!.centre.count == i {
                let p = PromptMap.basis(tokens, n: tokens.count / D, D: D)
                basis!.centre.append(p.centre); basis!.axes.append(p.axes); basis!.explained.append(p.explained)
            }
            let r = PromptMap.block(a.xin.ptr, tokens: tokens, B: B, T: T, P: P, Np: Np, D: D, centre: basis!.centre[i], axes: basis!.axes[i])
            map!.prompts.append(r.prompts); map!.patches.append(r.patches); map!.nearest.append(r.nearest)
            let o = PromptMap.imageOverlays(a.xin.ptr, att: a.att.ptr, T: T, P: P, Np: Np, D: D, H: c.heads)
            map!.imageNearest.append(o.nearest); map!.imageAttention.append(o.attention)
        }, rng: &rng)
        return PromptProbeMeasurement(nmi: nmi, attentionCLS: c.classToken ? cls : nil, attentionPatches: patches, map: map, basis: basis)
    }
}
