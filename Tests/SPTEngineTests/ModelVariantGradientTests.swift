import Testing
import SPTEngine

/// Finite differences through the whole classifier for timm's variants (registers, no class
/// token, no_embed_class, norm_pre, LayerNorm before mean pooling), with deep prompts and
/// prompt dropout off: every backbone tensor, the prompts, the head and the input image.
@Suite struct ModelVariantGradientTests {
    static func variant(_ k: Int) -> ViTConfig {
        var c = ViTConfig(imageSize: 8, patchSize: 4, channels: 3, dim: 8, depth: 2, heads: 2, mlpDim: 16)
        switch k {
        case 0: c.registers = 2; c.posEmbedPrefix = false; c.normPre = true; c.headNorm = .tokens; c.layerNormEps = 1e-5
        default: c.classToken = false; c.registers = 1; c.headNorm = .tokens
        }
        return c
    }

    @Test(arguments: [0, 1])
    func everyGradientMatchesFiniteDifferences(_ k: Int) {
        let c = Self.variant(k), B = 2, labels: [Int32] = [1, 2]
        var rng = RNG(seed: 3)
        let backbone = c.initBackbone(seed: 1)
        for i in 0..<backbone.values.count { backbone.values[i] += 0.3 * rng.normal() }
        let model = ViTClassifier(config: c, backbone: backbone, numClasses: 3, prompts: PromptSpec(count: 2, deep: true),
                                  pooling: .mean, mode: .full)
        for i in 0..<model.task.values.count { model.task.values[i] = 0.5 * rng.normal() }
        let image = randomBuffer([B, 3, 8, 8], &rng)
        let dimage = Buffer(image.shape)
        func loss() -> Double {
            var r = RNG(seed: 0)
            return Double(model.forward(images: image.ptr, B: B, labels: labels, training: true, rng: &r)!)
        }
        _ = loss()
        model.zeroGrads()
        model.backward(labels: labels, inputGrad: dimage.ptr)
        let analytic = [model.backboneGrads!.values.array, model.taskGrads.values.array, dimage.array]
        var worst: Float = 0, detail = ""
        for (x, g) in zip([model.backbone.values, model.task.values, image], analytic) {
            for i in 0..<x.count {
                let orig = x[i], eps: Float = 1e-2
                x[i] = orig + eps; let lp = loss()
                x[i] = orig - eps; let lm = loss()
                x[i] = orig
                let numeric = Float((lp - lm) / Double(2 * eps))
                let v = abs(g[i] - numeric) / (2e-3 + 2e-2 * abs(numeric))
                if v > worst { worst = v; detail = "\(i): analytic \(g[i]) numeric \(numeric)" }
            }
        }
        #expect(worst <= 1, "variant \(k): \(detail)")
    }
}
