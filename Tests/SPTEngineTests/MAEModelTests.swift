import Testing
import SPTEngine

@Suite struct MAEModelTests {
    /// Finite differences on a sample of encoder and decoder tensors, with a fixed mask.
    @Test func gradientsMatchFiniteDifferences() {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 8, depth: 1, heads: 2, mlpDim: 16)
        var mc = MAEConfig()
        mc.decoderDim = 8; mc.decoderDepth = 1; mc.decoderHeads = 2
        let model = MAEModel(config: c, mae: mc, backbone: c.initBackbone(seed: 1), seed: 1)
        var rng = RNG(seed: 2)
        // A unit-scale CLS token: at init it is ~0.02, too close to LayerNorm's singular point for eps = 1e-2.
        let cls = model.backbone.ptr("cls_token")
        for d in 0..<c.dim { cls[d] = rng.normal() }
        let B = 2
        let images = randomBuffer([B, 1, 8, 8], &rng)
        func loss() -> Double { var r = RNG(seed: 9); return Double(model.forward(images: images.ptr, B: B, rng: &r)) }
        _ = loss()
        model.zeroGrads()
        model.backward()
        var worst: Float = 0, detail = ""
        for (set, grads) in [(model.backbone, model.backboneGrads), (model.decoder, model.decoderGrads)] {
            for spec in set.layout.specs where spec.name != "pos_embed" {
                for k in stride(from: 0, to: spec.count, by: max(1, spec.count / 3)) {
                    let i = spec.offset + k, orig = set.values[i], eps: Float = 1e-2
                    set.values[i] = orig + eps; let lp = loss()
                    set.values[i] = orig - eps; let lm = loss()
                    set.values[i] = orig
                    let numeric = Float((lp - lm) / Double(2 * eps)), analytic = grads.values[i]
                    let v = abs(analytic - numeric) / (1e-3 + 5e-2 * abs(numeric))
                    if v > worst { worst = v; detail = "\(spec.name)[\(k)]: analytic \(analytic) numeric \(numeric)" }
                }
            }
        }
        #expect(worst <= 1, "\(detail)")
    }
}
