import Foundation

/// Masked-autoencoder settings (He et al., 2022), scaled for small images.
public struct MAEConfig: Codable, Equatable, Sendable {
    public var maskRatio: Float = 0.75
    public var decoderDim = 64
    public var decoderDepth = 2
    public var decoderHeads = 4
    /// Reconstruct per-patch normalized pixels (MAE's norm_pix_loss).
    public var normPixLoss = true
    public init() {}

    public func visibleCount(patches m: Int) -> Int { max(1, Int((Float(m) * (1 - maskRatio)).rounded(.down))) }

    /// MAE's decoder tensors, named as in the MAE reference code.
    public func decoderLayout(_ c: ViTConfig) -> ParameterLayout {
        var l = ParameterLayout()
        l.add("decoder_embed.weight", [decoderDim, c.dim]); l.add("decoder_embed.bias", [decoderDim])
        l.add("mask_token", [1, 1, decoderDim], decay: false)
        for i in 0..<decoderDepth {
            BlockParams.addLayout(&l, prefix: "decoder_blocks.\(i).", dim: decoderDim, mlp: 4 * decoderDim)
        }
        l.add("decoder_norm.weight", [decoderDim]); l.add("decoder_norm.bias", [decoderDim])
        l.add("decoder_pred.weight", [c.patchDim, decoderDim]); l.add("decoder_pred.bias", [c.patchDim])
        return l
    }
}

/// A ViT encoder that sees a random 25% of patches and a light decoder that reconstructs the
/// rest; the loss is the mean squared error on masked patches only. The position embedding is
/// fixed (sin-cos), as in MAE; every other backbone tensor is trained.
public final class MAEModel {
    public let config: ViTConfig
    public let mae: MAEConfig
    /// bf16: every product's inputs rounded (the weights' copies again at each forward pass).
    public let precision: Precision
    public let backbone, backboneGrads, decoder, decoderGrads: ParameterSet
    private let encBlocks, encBlockGrads, decBlocks, decBlockGrads: [BlockParams]
    private let decoderPos: [Float]
    private var ws: MAEWorkspace?

    public init(config: ViTConfig, mae: MAEConfig, backbone: ParameterSet, seed: UInt64, precision: Precision = .fp32) {
        precondition(precision != .auto, "resolve --precision auto first")
        self.config = config; self.mae = mae; self.backbone = backbone; self.precision = precision
        backboneGrads = ParameterSet(backbone.layout)
        decoder = ParameterSet(mae.decoderLayout(config))
        decoderGrads = ParameterSet(decoder.layout)
        var rng = RNG(seed: seed ^ 0xDEC0DE)
        for spec in decoder.layout.specs where spec.name.hasSuffix(".weight") {
            let p = decoder.ptr(spec.name)
            if spec.shape.count == 1 { p.update(repeating: 1, count: spec.count); continue }
            xavierUniform(p, count: spec.count, fanIn: spec.shape[1], fanOut: spec.shape[0], rng: &rng)
        }
        let mt = decoder.ptr("mask_token")
        for i in 0..<mae.decoderDim { mt[i] = 0.02 * rng.normal() }
        let (bb, bg, dec, dg) = (backbone, backboneGrads, decoder, decoderGrads)
        let bf16 = precision == .bf16
        encBlocks = (0..<config.depth).map { BlockParams(bb, prefix: "blocks.\($0).", bf16: bf16) }
        encBlockGrads = (0..<config.depth).map { BlockParams(bg, prefix: "blocks.\($0).") }
        decBlocks = (0..<mae.decoderDepth).map { BlockParams(dec, prefix: "decoder_blocks.\($0).", bf16: bf16) }
        decBlockGrads = (0..<mae.decoderDepth).map { BlockParams(dg, prefix: "decoder_blocks.\($0).") }
        decoderPos = sinCosPositionEmbedding(dim: mae.decoderDim, grid: config.gridSize)
    }

    public func zeroGrads() { backboneGrads.values.zero(); decoderGrads.values.zero() }

    /// A weight's bf16 copy under bf16, else nil (fp32 product).
    private func w16(_ set: ParameterSet, _ name: String) -> BF16Ptr? { precision == .bf16 ? set.bf16(name) : nil }

    /// Forward pass with masks drawn from `rng`; returns the loss. Call `backward()` after it.
    public func forward(images: FPtr, B: Int, rng: inout RNG) -> Float {
        let c = config, D = c.dim, Dd = mae.decoderDim, m = c.numPatches, pd = c.patchDim
        let nv = mae.visibleCount(patches: m)
        if ws?.B != B { ws = MAEWorkspace(config: c, mae: mae, B: B) }
        if precision == .bf16 { backbone.refreshBF16(); decoder.refreshBF16() }
        let w = ws!
        patchify(w.patches.ptr, images, B: B, C: c.channels, Hh: c.imageSize, W: c.imageSize, p: c.patchSize)
        // Random masking: a per-sample random permutation; the first nv patches stay visible.
        for b in 0..<B {
            let perm = rng.permutation(m)
            let keep = perm.prefix(nv).sorted()
            for j in 0..<m { w.slot[b * m + j] = -1 }
            for (r, j) in keep.enumerated() {
                w.keep[b * nv + r] = j
                w.slot[b * m + j] = r
                (w.visPatches.ptr + (b * nv + r) * pd).update(from: w.patches.ptr + (b * m + j) * pd, count: pd)
            }
        }
        matmulForward(w.emb.ptr, w.visPatches.ptr, backbone.ptr("patch_embed.proj.weight"),
                      backbone.ptr("patch_embed.proj.bias"), M: B * nv, K: pd, N: D, weight16: w16(backbone, "patch_embed.proj.weight"))
        let Te = 1 + nv
        TokenEmbedding(config: config).forward(w.enc.acts[0].xin.ptr, params: backbone, emb: w.emb.ptr, B: B, n: nv, gap: 0,
                                               patch: { w.keep[$0 * nv + $1] })
        w.enc.forward(encBlocks)
        layerNormForward(w.latent.ptr, w.latMean.ptr, w.latRstd.ptr, w.enc.output.ptr,
                         backbone.ptr("norm.weight"), backbone.ptr("norm.bias"), N: B * Te, C: D)
        matmulForward(w.dec.ptr, w.latent.ptr, decoder.ptr("decoder_embed.weight"), decoder.ptr("decoder_embed.bias"),
                      M: B * Te, K: D, N: Dd, weight16: w16(decoder, "decoder_embed.weight"))
        let Td = 1 + m, y0 = w.decStack.acts[0].xin.ptr, mt = decoder.ptr("mask_token")
        decoderPos.withUnsafeBufferPointer { dp in
            for b in 0..<B {
                for t in 0..<Td {
                    let dst = y0 + (b * Td + t) * Dd
                    let src: UnsafeMutablePointer<Float>
                    if t == 0 { src = w.dec.ptr + b * Te * Dd }
                    else if w.slot[b * m + t - 1] >= 0 { src = w.dec.ptr + (b * Te + 1 + w.slot[b * m + t - 1]) * Dd }
                    else { src = mt }
                    for d in 0..<Dd { dst[d] = src[d] + dp[t * Dd + d] }
                }
            }
        }
        w.decStack.forward(decBlocks)
        layerNormForward(w.decLN.ptr, w.decMean.ptr, w.decRstd.ptr, w.decStack.output.ptr,
                         decoder.ptr("decoder_norm.weight"), decoder.ptr("decoder_norm.bias"), N: B * Td, C: Dd)
        matmulForward(w.pred.ptr, w.decLN.ptr, decoder.ptr("decoder_pred.weight"), decoder.ptr("decoder_pred.bias"),
                      M: B * Td, K: Dd, N: pd, weight16: w16(decoder, "decoder_pred.weight"))
        // Loss on masked patches against (optionally per-patch normalized) pixels.
        var loss = 0.0
        let masked = B * (m - nv)
        w.dpred.zero()
        let scale = 2 / Float(masked * pd)
        for b in 0..<B {
            for j in 0..<m where w.slot[b * m + j] < 0 {
                let tgt = w.patches.ptr + (b * m + j) * pd, pr = w.pred.ptr + (b * Td + 1 + j) * pd
                var mean: Float = 0, inv: Float = 1
                if mae.normPixLoss {
                    for i in 0..<pd { mean += tgt[i] }
                    mean /= Float(pd)
                    var v: Float = 0
                    for i in 0..<pd { v += (tgt[i] - mean) * (tgt[i] - mean) }
                    inv = 1 / (v / Float(pd - 1) + 1e-6).squareRoot()
                }
                let g = w.dpred.ptr + (b * Td + 1 + j) * pd
                var s: Float = 0
                for i in 0..<pd {
                    let diff = pr[i] - (tgt[i] - mean) * inv
                    s += diff * diff
                    g[i] = scale * diff
                }
                loss += Double(s)
            }
        }
        return Float(loss / Double(masked * pd))
    }

    /// Accumulates the gradients of the last forward's loss.
    public func backward() {
        guard let w = ws else { preconditionFailure("backward before forward") }
        let c = config, D = c.dim, Dd = mae.decoderDim, m = c.numPatches, pd = c.patchDim, B = w.B
        let nv = mae.visibleCount(patches: m), Te = 1 + nv, Td = 1 + m
        w.ddecLN.zero()
        matmulBackward(dinp: w.ddecLN.ptr, dweight: decoderGrads.ptr("decoder_pred.weight"), dbias: decoderGrads.ptr("decoder_pred.bias"),
                       w.dpred.ptr, w.decLN.ptr, decoder.ptr("decoder_pred.weight"), M: B * Td, K: Dd, N: pd,
                       weight16: w16(decoder, "decoder_pred.weight"))
        w.ddecOut.zero()
        layerNormBackward(dinp: w.ddecOut.ptr, dweight: decoderGrads.ptr("decoder_norm.weight"), dbias: decoderGrads.ptr("decoder_norm.bias"),
                          w.ddecLN.ptr, w.decStack.output.ptr, decoder.ptr("decoder_norm.weight"), w.decMean.ptr, w.decRstd.ptr, N: B * Td, C: Dd)
        let dy0 = w.decStack.backward(w.ddecOut.ptr, decBlocks, grads: decBlockGrads).ptr
        let dmt = decoderGrads.ptr("mask_token")
        for b in 0..<B {
            (w.ddec.ptr + b * Te * Dd).update(from: dy0 + b * Td * Dd, count: Dd)
            for j in 0..<m {
                let g = dy0 + (b * Td + 1 + j) * Dd, r = w.slot[b * m + j]
                if r >= 0 { (w.ddec.ptr + (b * Te + 1 + r) * Dd).update(from: g, count: Dd) }
                else { for d in 0..<Dd { dmt[d] += g[d] } }
            }
        }
        w.dlatent.zero()
        matmulBackward(dinp: w.dlatent.ptr, dweight: decoderGrads.ptr("decoder_embed.weight"), dbias: decoderGrads.ptr("decoder_embed.bias"),
                       w.ddec.ptr, w.latent.ptr, decoder.ptr("decoder_embed.weight"), M: B * Te, K: D, N: Dd,
                       weight16: w16(decoder, "decoder_embed.weight"))
        w.dencOut.zero()
        layerNormBackward(dinp: w.dencOut.ptr, dweight: backboneGrads.ptr("norm.weight"), dbias: backboneGrads.ptr("norm.bias"),
                          w.dlatent.ptr, w.enc.output.ptr, backbone.ptr("norm.weight"), w.latMean.ptr, w.latRstd.ptr, N: B * Te, C: D)
        let dx0 = w.enc.backward(w.dencOut.ptr, encBlocks, grads: encBlockGrads).ptr
        // The position embedding is MAE's fixed sin-cos: not trained.
        TokenEmbedding(config: config).backward(dx0, grads: backboneGrads, positions: false, demb: w.demb.ptr, B: B, n: nv, gap: 0,
                                                patch: { w.keep[$0 * nv + $1] })
        matmulBackward(dinp: nil, dweight: backboneGrads.ptr("patch_embed.proj.weight"), dbias: backboneGrads.ptr("patch_embed.proj.bias"),
                       w.demb.ptr, w.visPatches.ptr, backbone.ptr("patch_embed.proj.weight"), M: B * nv, K: pd, N: D,
                       weight16: w16(backbone, "patch_embed.proj.weight"))
    }
}

final class MAEWorkspace {
    let B: Int
    let enc, decStack: TransformerStack
    let patches, visPatches, emb, demb, latent, latMean, latRstd, dlatent, dencOut: Buffer
    let dec, ddec, decLN, decMean, decRstd, ddecLN, ddecOut, pred, dpred: Buffer
    var keep: [Int], slot: [Int]

    init(config c: ViTConfig, mae: MAEConfig, B: Int) {
        self.B = B
        let m = c.numPatches, nv = mae.visibleCount(patches: m), D = c.dim, Dd = mae.decoderDim
        let Te = 1 + nv, Td = 1 + m
        enc = TransformerStack(depth: c.depth, dim: D, heads: c.heads, mlp: c.mlpDim, B: B, T: Te)
        decStack = TransformerStack(depth: mae.decoderDepth, dim: Dd, heads: mae.decoderHeads, mlp: 4 * Dd, B: B, T: Td)
        patches = Buffer([B * m, c.patchDim]); visPatches = Buffer([B * nv, c.patchDim])
        emb = Buffer([B * nv, D]); demb = Buffer([B * nv, D])
        latent = Buffer([B * Te, D]); latMean = Buffer([B * Te]); latRstd = Buffer([B * Te])
        dlatent = Buffer([B * Te, D]); dencOut = Buffer([B * Te, D])
        dec = Buffer([B * Te, Dd]); ddec = Buffer([B * Te, Dd])
        decLN = Buffer([B * Td, Dd]); decMean = Buffer([B * Td]); decRstd = Buffer([B * Td])
        ddecLN = Buffer([B * Td, Dd]); ddecOut = Buffer([B * Td, Dd])
        pred = Buffer([B * Td, c.patchDim]); dpred = Buffer([B * Td, c.patchDim])
        keep = Array(repeating: 0, count: B * nv); slot = Array(repeating: -1, count: B * m)
    }
}
