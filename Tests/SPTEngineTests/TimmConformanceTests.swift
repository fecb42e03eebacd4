import Foundation
import Testing
import SPTEngine

/// timm checkpoints of every supported family against timm's own outputs
/// (tools/timm/make_fixtures.py: random-init models built with timm's classes, exported as the hub
/// stores them).
@Suite struct TimmConformanceTests {
    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("timm").path

    /// Largest |a − b|.
    func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        #expect(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// timm's forward_features (every token, after `norm` when the backbone has one), pre-logits
    /// and logits of the fixture's input batch.
    func outputs(_ b: Backbone, input: [Float], count B: Int) -> (features: [Float], preLogits: [Float], logits: [Float]?) {
        let c = b.config, D = c.dim, T = c.tokens()
        let model = ViTClassifier(config: c, backbone: b.params, numClasses: 2, prompts: PromptSpec(count: 0),
                                  pooling: b.pooling, mode: .linear)
        let x = Buffer([B, c.channels, c.imageSize, c.imageSize])
        input.withUnsafeBufferPointer { x.ptr.update(from: $0.baseAddress!, count: input.count) }
        var rng = RNG(seed: 0)
        model.forward(images: x.ptr, B: B, inference: true, rng: &rng)
        var feats = Array(UnsafeBufferPointer(start: model.tokens.ptr, count: B * T * D))
        if c.headNorm == .tokens {
            let out = Buffer([B * T, D]), mean = Buffer([B * T]), rstd = Buffer([B * T])
            layerNormForward(out.ptr, mean.ptr, rstd.ptr, model.tokens.ptr, b.params.ptr("norm.weight"), b.params.ptr("norm.bias"), N: B * T, C: D)
            feats = Array(UnsafeBufferPointer(start: out.ptr, count: B * T * D))
        }
        let pre = Array(UnsafeBufferPointer(start: model.features.ptr, count: B * D))
        let logits = b.head.map { h in
            (0..<B).flatMap { i in (0..<h.bias.count).map { k in h.bias[k] + (0..<D).reduce(Float(0)) { $0 + pre[i * D + $1] * h.weight[k * D + $1] } } }
        }
        return (feats, pre, logits)
    }

    @Test(arguments: ["plain-head", "mae-avg-fcnorm", "avg-no-fcnorm", "no-class-token", "dinov2-reg", "deit3", "no-qkv-bias", "clip-norm-pre"])
    func familyMatchesTimm(_ family: String) throws {
        let dir = "\(Self.root)/\(family)"
        let b = try Backbone.load(dir)
        let expected = try SafeTensors(path: dir + "/expected.safetensors")
        let input = try expected.floats("input"), B = expected.entries["input"]!.shape[0]
        let out = outputs(b, input: input, count: B)
        let df = maxDiff(out.features, try expected.floats("features")), dp = maxDiff(out.preLogits, try expected.floats("pre_logits"))
        print("timm \(family): features \(df), pre-logits \(dp)")
        #expect(df <= 1e-4, "\(family): forward_features differs by \(df)")
        #expect(dp <= 1e-4, "\(family): pre-logits differ by \(dp)")
        if expected.entries["logits"] != nil {
            let logits = try #require(out.logits, "\(family): the checkpoint's head was not kept")
            let dl = maxDiff(logits, try expected.floats("logits"))
            #expect(dl <= 1e-4, "\(family): logits differ by \(dl)")
        } else {
            #expect(out.logits == nil)
        }
    }

    @Test func familiesAreRecognised() throws {
        let dino = try Backbone.load("\(Self.root)/dinov2-reg")
        #expect(dino.config.registers == 4 && !dino.config.posEmbedPrefix && dino.config.patchSize == 14)
        #expect(dino.loadReport.contains { $0.contains("LayerScale") })
        #expect(dino.norm.mean == [0.485, 0.456, 0.406])
        let mae = try Backbone.load("\(Self.root)/mae-avg-fcnorm/model.safetensors")
        #expect(mae.pooling == .mean && mae.config.headNorm == .pooled)
        let clip = try Backbone.load("\(Self.root)/clip-norm-pre")
        #expect(clip.config.normPre && clip.loadReport.contains { $0.contains("patch_embed.proj.bias: absent") })
        #expect(clip.preprocessing.cropPct == 0.9 && clip.preprocessing.mode == .crop)
        #expect(try Backbone.load("\(Self.root)/no-class-token").config.classToken == false)
    }

    @Test func anUnknownTensorIsRefusedByName() {
        #expect {
            try Backbone.load("\(Self.root)/unknown-tensor")
        } throws: { "\($0)".contains("blocks.1.attn.extra_scale") && "\($0)".contains("does not use") }
    }
}

extension TimmConformanceTests {
    @Test(arguments: [6, 3])
    func positionEmbeddingsResampleAsTimmDoes(_ grid: Int) throws {
        let dir = "\(Self.root)/plain-head"
        let b = try Backbone.load(dir, imageSize: grid * 8)
        let want = try SafeTensors(path: dir + "/expected.safetensors").floats("pos_embed_grid\(grid)")
        let d = maxDiff(b.params.array("pos_embed"), want)
        print("pos_embed 4² → \(grid)²: largest difference \(d)")
        #expect(d <= 1e-5)
        #expect(b.loadReport.contains { $0.contains("resampled to \(grid)²") })
    }
}
