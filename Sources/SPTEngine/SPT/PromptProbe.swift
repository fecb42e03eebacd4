/// What the trainer measures of the prompts on its probe batch, in one inference pass: per-block
/// NMI between prompt and patch tokens, and the attention the prompts get (`PromptAttention`).
public struct PromptProbeMeasurement: Sendable {
    public var nmi: [Double]
    /// Per block: the class token's attention share to the prompts (nil without a class token).
    public var attentionCLS: [Double]?
    /// Per block: the patch tokens' mean attention share to the prompts.
    public var attentionPatches: [Double]
}

public enum PromptProbe {
    /// The pass runs in fp32 whatever the model's precision: it measures the prompts under the
    /// backbone, and bf16's rounding of the tokens moved NMI by up to 2% (shipped `mae-tiny`).
    public static func measure(_ model: ViTClassifier, images: FPtr, B: Int, mode: NMI.Mode, normalization: NMI.Normalization) -> PromptProbeMeasurement {
        let c = model.config, Np = model.prompts.count
        guard Np > 0 else { return PromptProbeMeasurement(nmi: [], attentionCLS: nil, attentionPatches: []) }
        var nmi = [Double](repeating: 0, count: c.depth), cls = nmi, patches = nmi, rng = RNG(seed: 0)
        model.forward(images: images, B: B, inference: true, fp32: true, observe: { i, a in
            nmi[i] = NMI.block(a, model: model, B: B, mode: mode, normalization: normalization)
            let s = PromptAttention.block(a.att.ptr, config: c, prompts: Np, B: B)
            cls[i] = s.cls ?? 0; patches[i] = s.patches
        }, rng: &rng)
        return PromptProbeMeasurement(nmi: nmi, attentionCLS: c.classToken ? cls : nil, attentionPatches: patches)
    }
}
