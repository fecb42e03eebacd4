import Foundation

/// What the classifier's head reads: the class token (timm `token`) or the mean of every token
/// after the class and register tokens, prompts included (timm `avg`). The final LayerNorm
/// comes before or after pooling as the backbone's `headNorm` says.
public enum Pooling: String, Codable, Sendable, CaseIterable { case cls, mean }

/// What training updates: prompts + head (VPT/SPT), the head alone, or everything.
public enum TuningMode: String, Codable, Sendable, CaseIterable { case prompt, linear, full }

/// VPT prompts: `count` tokens inserted once (shallow) or before every block (deep).
public struct PromptSpec: Codable, Equatable, Sendable {
    public var count: Int
    public var deep: Bool
    public var dropout: Float
    public init(count: Int, deep: Bool = false, dropout: Float = 0) {
        self.count = count; self.deep = deep; self.dropout = dropout
    }
    /// Number of prompt sets: one per block when deep.
    public func layers(depth: Int) -> Int { count == 0 ? 0 : (deep ? depth : 1) }
}

/// A ViT classifier with VPT prompts. The backbone and the per-task parameters (prompts + head)
/// live in separate buffers; only `.full` mode allocates backbone gradients.
public final class ViTClassifier {
    public let config: ViTConfig
    public let numClasses: Int
    public let prompts: PromptSpec
    public let pooling: Pooling
    public let mode: TuningMode
    /// The backbone's products: fp32, or bf16 (in `.full` mode the bf16 copies of the weights
    /// are rounded again at every forward pass; the fp32 weights are the ones that train).
    public let precision: Precision
    public let backbone: ParameterSet
    public let backboneGrads: ParameterSet?
    /// `prompt_embeddings` [layers, Np, D] (when Np > 0), `head.weight` [K, D], `head.bias` [K].
    public let task: ParameterSet
    public let taskGrads: ParameterSet
    private let blocks: [BlockParams]
    /// The blocks with fp32 products, for measurements taken in fp32 whatever the precision (NMI).
    private let blocks32: [BlockParams]
    private let blockGrads: [BlockParams]?
    /// Activation memory; classifiers stepped one at a time (a comparison's runs) may share it.
    public let workspaces: Workspaces
    private var last: (ws: Workspace, withPrompts: Bool, training: Bool, bf16: Bool)?

    public init(config: ViTConfig, backbone: ParameterSet, numClasses: Int, prompts: PromptSpec,
                pooling: Pooling, mode: TuningMode, workspaces: Workspaces = Workspaces(), precision: Precision = .fp32) {
        precondition(precision != .auto, "resolve --precision auto first")
        self.precision = precision
        self.workspaces = workspaces
        precondition(backbone.layout == config.backboneLayout, "backbone layout does not match config")
        self.config = config; self.numClasses = numClasses; self.prompts = prompts
        self.pooling = pooling; self.mode = mode; self.backbone = backbone
        task = ParameterSet(Self.taskLayout(config: config, numClasses: numClasses, prompts: prompts))
        taskGrads = ParameterSet(task.layout)
        backboneGrads = mode == .full ? ParameterSet(backbone.layout) : nil
        blocks = (0..<config.depth).map { BlockParams(backbone, prefix: "blocks.\($0).", bf16: precision == .bf16) }
        blocks32 = precision == .bf16 ? (0..<config.depth).map { BlockParams(backbone, prefix: "blocks.\($0).") } : blocks
        blockGrads = backboneGrads.map { g in (0..<config.depth).map { BlockParams(g, prefix: "blocks.\($0).") } }
    }

    /// What a training pass keeps for backward: a linear probe's gradient stops at the head.
    public static func saves(_ mode: TuningMode) -> SavedActivations {
        switch mode { case .full: .all; case .prompt: .inputGradients; case .linear: .none }
    }

    public static func taskLayout(config: ViTConfig, numClasses: Int, prompts: PromptSpec) -> ParameterLayout {
        var l = ParameterLayout()
        if prompts.count > 0 {
            l.add("prompt_embeddings", [prompts.layers(depth: config.depth), prompts.count, config.dim], decay: true)
        }
        l.add("head.weight", [numClasses, config.dim])
        l.add("head.bias", [numClasses])
        return l
    }

    /// Head weights ~ N(0, 0.01²), bias 0 (MAE's linear-probe init).
    public func initHead(rng: inout RNG) {
        let w = task.ptr("head.weight")
        for i in 0..<(numClasses * config.dim) { w[i] = 0.01 * rng.normal() }
        task.ptr("head.bias").update(repeating: 0, count: numClasses)
    }

    public var promptPtr: FPtr? { prompts.count > 0 ? task.ptr("prompt_embeddings") : nil }

    // MARK: forward

    /// Runs the model on B images ([B, C, H, W], normalized). With labels, returns the mean
    /// cross-entropy. `withPrompts: false` runs the prompt-free backbone (token gathering).
    /// `inference: true` keeps no activations for a backward pass (one block's scratch serves
    /// all blocks); `observe(i, block)` then sees each block's input and q, k, v as it runs.
    /// `fp32: true` runs every product in fp32 whatever the model's precision.
    @discardableResult
    public func forward(images: FPtr, B: Int, labels: [Int32]? = nil, training: Bool = false,
                        withPrompts: Bool = true, inference: Bool = false, fp32: Bool = false,
                        observe: ((Int, BlockActivations) -> Void)? = nil, rng: inout RNG) -> Float? {
        let bf16 = precision == .bf16 && !fp32, blocks = bf16 ? blocks : blocks32
        if bf16 && mode == .full { backbone.refreshBF16() }
        let c = config, D = c.dim, m = c.numPatches, P = c.prefixTokens
        let Np = withPrompts ? prompts.count : 0, T = c.tokens(prompts: Np)
        let masks = training && prompts.dropout > 0 ? prompts.layers(depth: c.depth) * B * prompts.count * D : 0
        let ws = inference ? workspaces.inference(config: c, classes: numClasses, B: B, T: T)
            : workspaces.training(config: c, classes: numClasses, B: B, T: T, masks: masks, saves: Self.saves(mode))
        last = (ws, withPrompts, training, bf16)
        patchify(ws.patches.ptr, images, B: B, C: c.channels, Hh: c.imageSize, W: c.imageSize, p: c.patchSize)
        matmulForward(ws.emb.ptr, ws.patches.ptr, backbone.ptr("patch_embed.proj.weight"),
                      backbone.ptr("patch_embed.proj.bias"), M: B * m, K: c.patchDim, N: D,
                      weight16: bf16 ? backbone.bf16("patch_embed.proj.weight") : nil)
        let x0 = ws.stack.acts[0].xin.ptr
        TokenEmbedding(config: c).forward(c.normPre ? ws.preNorm!.ptr : x0, params: backbone, emb: ws.emb.ptr, B: B, n: m, gap: Np,
                                          patch: { $1 })
        if let pre = ws.preNorm {
            layerNormForward(x0, ws.preMean!.ptr, ws.preRstd!.ptr, pre.ptr, backbone.ptr("norm_pre.weight"),
                             backbone.ptr("norm_pre.bias"), N: B * T, C: D, eps: c.layerNormEps)
        }
        if Np > 0 {
            let useDropout = training && prompts.dropout > 0
            if useDropout { fillDropoutMasks(ws, B: B, rng: &rng) }
            insertPrompts(layer: 0, into: x0, ws: ws, B: B, T: T, dropout: useDropout)
            ws.stack.forward(blocks, n: B, beforeBlock: { i, xin in
                if prompts.deep { insertPrompts(layer: i, into: xin, ws: ws, B: B, T: T, dropout: useDropout) }
            }, observe: observe)
        } else {
            ws.stack.forward(blocks, n: B, observe: observe)
        }
        if normsTokens {
            // timm's avg pooling without fc_norm: the mean of LayerNorm-ed tokens.
            let xL = ws.stack.output.ptr, n = ws.tokenNorm!
            layerNormForward(n.ptr, ws.tokenMean!.ptr, ws.tokenRstd!.ptr, xL, backbone.ptr("norm.weight"),
                             backbone.ptr("norm.bias"), N: B * T, C: D, eps: c.layerNormEps)
            poolForward(ws.lnf.ptr, n.ptr, .mean, B: B, T: T, D: D, from: P)
        } else {
            poolForward(ws.feat.ptr, ws.stack.output.ptr, pooling, B: B, T: T, D: D, from: P)
            layerNormForward(ws.lnf.ptr, ws.lnfMean.ptr, ws.lnfRstd.ptr, ws.feat.ptr,
                             backbone.ptr("norm.weight"), backbone.ptr("norm.bias"), N: B, C: D, eps: c.layerNormEps)
        }
        matmulForward(ws.logits.ptr, ws.lnf.ptr, task.ptr("head.weight"), task.ptr("head.bias"), M: B, K: D, N: numClasses)
        guard let labels else { return nil }
        return crossEntropyForward(ws.probs.ptr, ws.logits.ptr, labels, B: B, K: numClasses)
    }

    /// Head inputs of the last forward (pooled tokens after the final LayerNorm), [B, D].
    public var features: Buffer { last!.ws.lnf }
    /// Every token after the last block (before the final LayerNorm) of the last forward, [B, T, D].
    public var tokens: Buffer { last!.ws.stack.output }
    /// Logits of the last forward, [B, K].
    public var logits: Buffer { last!.ws.logits }
    /// Patch embeddings before the position embedding, [B, m, D], of the last forward.
    public var patchEmbeddings: Buffer { last!.ws.emb }

    // MARK: backward

    /// Accumulates gradients of the last forward's loss into `taskGrads` (and `backboneGrads` in
    /// full mode). `inputGrad` ([B, C, H, W]), when given, receives the image gradient.
    public func backward(labels: [Int32], inputGrad: FPtr? = nil) {
        guard let (ws, withPrompts, training, bf16) = last, let g = ws.grads else { preconditionFailure("backward needs a training forward") }
        let c = config, D = c.dim, m = c.numPatches, B = ws.B, T = ws.T, P = c.prefixTokens
        let Np = withPrompts ? prompts.count : 0
        g.dlogits.zero()
        crossEntropyBackward(dlogits: g.dlogits.ptr, ws.probs.ptr, labels, B: B, K: numClasses)
        g.dlnf.zero()
        matmulBackward(dinp: g.dlnf.ptr, dweight: taskGrads.ptr("head.weight"), dbias: taskGrads.ptr("head.bias"),
                       g.dlogits.ptr, ws.lnf.ptr, task.ptr("head.weight"), M: B, K: D, N: numClasses)
        if mode == .linear && inputGrad == nil { return }
        let bg = backboneGrads
        let dxL = g.dout.ptr
        g.dout.zero()
        if normsTokens {
            let dn = g.dtokens!.ptr
            g.dtokens!.zero()
            poolBackward(dn, g.dlnf.ptr, .mean, B: B, T: T, D: D, from: P)
            layerNormBackward(dinp: dxL, dweight: bg?.ptr("norm.weight"), dbias: bg?.ptr("norm.bias"), dn, ws.stack.output.ptr,
                              backbone.ptr("norm.weight"), ws.tokenMean!.ptr, ws.tokenRstd!.ptr, N: B * T, C: D)
        } else {
            g.dfeat.zero()
            layerNormBackward(dinp: g.dfeat.ptr, dweight: bg?.ptr("norm.weight"), dbias: bg?.ptr("norm.bias"),
                              g.dlnf.ptr, ws.feat.ptr, backbone.ptr("norm.weight"), ws.lnfMean.ptr, ws.lnfRstd.ptr, N: B, C: D)
            poolBackward(dxL, g.dfeat.ptr, pooling, B: B, T: T, D: D, from: P)
        }
        let dropout = training && prompts.dropout > 0
        let dx0 = ws.stack.backward(dxL, bf16 ? blocks : blocks32, grads: blockGrads) { i, dxin in
            guard Np > 0, prompts.deep || i == 0 else { return }
            accumulatePromptGrad(layer: prompts.deep ? i : 0, from: dxin, ws: ws, B: B, T: T, dropout: dropout)
            if prompts.deep && i > 0 {
                for b in 0..<B { (dxin + (b * T + P) * D).update(repeating: 0, count: Np * D) }
            }
        }.ptr
        guard bg != nil || inputGrad != nil else { return }
        var dseq = dx0
        if let pre = ws.preNorm, let dpre = g.dpreNorm {
            // Prompt rows were replaced after norm_pre: no gradient flows from them into it.
            if Np > 0 { for b in 0..<B { (dx0 + (b * T + P) * D).update(repeating: 0, count: Np * D) } }
            dpre.zero()
            layerNormBackward(dinp: dpre.ptr, dweight: bg?.ptr("norm_pre.weight"), dbias: bg?.ptr("norm_pre.bias"), dx0, pre.ptr,
                              backbone.ptr("norm_pre.weight"), ws.preMean!.ptr, ws.preRstd!.ptr, N: B * T, C: D)
            dseq = dpre.ptr
        }
        TokenEmbedding(config: c).backward(dseq, grads: bg, positions: true, demb: g.demb.ptr, B: B, n: m, gap: Np, patch: { $1 })
        if inputGrad != nil { g.dpatches.zero() }
        matmulBackward(dinp: inputGrad != nil ? g.dpatches.ptr : nil,
                       dweight: bg?.ptr("patch_embed.proj.weight"), dbias: bg?.ptr("patch_embed.proj.bias"),
                       g.demb.ptr, ws.patches.ptr, backbone.ptr("patch_embed.proj.weight"), M: B * m, K: c.patchDim, N: D,
                       weight16: bf16 ? backbone.bf16("patch_embed.proj.weight") : nil)
        if let inputGrad {
            unpatchifyAccumulate(inputGrad, g.dpatches.ptr, B: B, C: c.channels, Hh: c.imageSize, W: c.imageSize, p: c.patchSize)
        }
    }

    public func zeroGrads() {
        taskGrads.values.zero()
        backboneGrads?.values.zero()
    }

    // MARK: helpers

    /// Whether the final LayerNorm runs on every token before a mean (timm `avg` with `norm`).
    private var normsTokens: Bool { pooling == .mean && config.headNorm == .tokens }

    private func fillDropoutMasks(_ ws: Workspace, B: Int, rng: inout RNG) {
        let keep = 1 - prompts.dropout, scale = 1 / keep
        for i in 0..<ws.grads!.masks.count { ws.grads!.masks[i] = rng.uniform() < keep ? scale : 0 }
    }

    private func insertPrompts(layer: Int, into x: FPtr, ws: Workspace, B: Int, T: Int, dropout: Bool) {
        let D = config.dim, Np = prompts.count, P = task.ptr("prompt_embeddings") + layer * Np * D
        for b in 0..<B {
            let dst = x + (b * T + config.prefixTokens) * D
            if dropout {
                let mk = ws.grads!.masks.ptr + (layer * B + b) * Np * D
                for i in 0..<(Np * D) { dst[i] = P[i] * mk[i] }
            } else {
                dst.update(from: P, count: Np * D)
            }
        }
    }

    private func accumulatePromptGrad(layer: Int, from dx: FPtr, ws: Workspace, B: Int, T: Int, dropout: Bool) {
        let D = config.dim, Np = prompts.count
        let dP = taskGrads.ptr("prompt_embeddings") + layer * Np * D
        for b in 0..<B {
            let src = dx + (b * T + config.prefixTokens) * D
            if dropout {
                let mk = ws.grads!.masks.ptr + (layer * B + b) * Np * D
                for i in 0..<(Np * D) { dP[i] += src[i] * mk[i] }
            } else {
                for i in 0..<(Np * D) { dP[i] += src[i] }
            }
        }
    }
}

/// Activation memory of classifiers, by shape: training workspaces (activations saved for a
/// backward pass) per batch and token count, and inference workspaces (one block's scratch) per
/// token count, grown to the largest batch asked for. Not thread-safe: its users take turns.
public final class Workspaces {
    private var training: [[Int]: Workspace] = [:]
    private var inference: [[Int]: Workspace] = [:]
    public init() {}

    /// Bytes of every workspace allocated so far.
    public var allocatedBytes: Int { (training.values.map(\.floats).reduce(0, +) + inference.values.map(\.floats).reduce(0, +)) * 4 }
    /// Bytes of the inference workspaces alone.
    public var inferenceBytes: Int { inference.values.map(\.floats).reduce(0, +) * 4 }

    func training(config c: ViTConfig, classes: Int, B: Int, T: Int, masks: Int, saves: SavedActivations) -> Workspace {
        let key = [B, T, masks, classes, saves == .all ? 2 : saves == .none ? 0 : 1]
        if let ws = training[key] { return ws }
        let ws = Workspace(config: c, numClasses: classes, B: B, T: T, saves: saves, gradients: true, masks: masks)
        training[key] = ws
        return ws
    }

    func inference(config c: ViTConfig, classes: Int, B: Int, T: Int) -> Workspace {
        let key = [T, classes]
        if let ws = inference[key], ws.B >= B { return ws }
        let ws = Workspace(config: c, numClasses: classes, B: B, T: T, saves: .none, gradients: false, masks: 0)
        inference[key] = ws
        return ws
    }

    /// Floats a workspace of this shape takes (memory planning).
    public static func floats(_ c: ViTConfig, B: Int, T: Int, saves: SavedActivations, gradients: Bool) -> Int {
        Workspace.floats(config: c, B: B, T: T, saves: saves, gradients: gradients)
    }

    /// The largest batch (at most `limit`) whose inference workspace fits in `bytes`: evaluation
    /// and token gathering size their batches by memory, not by a constant.
    public static func inferenceBatch(_ c: ViTConfig, T: Int, bytes: Int = 256 << 20, limit: Int = 128) -> Int {
        var b = limit
        while b > 1 && Workspace.floats(config: c, B: b, T: T, saves: .none, gradients: false) * 4 > bytes { b /= 2 }
        return b
    }
}

extension SavedActivations: Equatable {}

/// Everything one forward (and, for training, backward) of up to B images with T tokens needs.
final class Workspace {
    let B, T: Int
    let stack: TransformerStack
    let patches, emb, feat, lnf, lnfMean, lnfRstd, logits, probs: Buffer
    /// Embedded tokens before `norm_pre`, with its statistics (backbones that have one).
    let preNorm, preMean, preRstd: Buffer?
    /// Every token after the final LayerNorm, with its statistics (`HeadNorm.tokens` backbones).
    let tokenNorm, tokenMean, tokenRstd: Buffer?
    /// Gradient buffers, absent in inference workspaces.
    let grads: Gradients?
    let floats: Int

    final class Gradients {
        let dpatches, demb, dlogits, dlnf, dfeat, dout, masks: Buffer
        let dpreNorm, dtokens: Buffer?
        init(c: ViTConfig, K: Int, B: Int, T: Int, masks: Int) {
            let D = c.dim, m = c.numPatches
            dpatches = Buffer([B * m, c.patchDim]); demb = Buffer([B * m, D]); dlogits = Buffer([B, K])
            dlnf = Buffer([B, D]); dfeat = Buffer([B, D]); dout = Buffer([B * T, D]); self.masks = Buffer([max(1, masks)])
            dpreNorm = c.normPre ? Buffer([B * T, D]) : nil
            dtokens = c.headNorm == .tokens ? Buffer([B * T, D]) : nil
        }
        var floats: Int { ([dpatches, demb, dlogits, dlnf, dfeat, dout, masks] + [dpreNorm, dtokens].compactMap { $0 }).map(\.count).reduce(0, +) }
    }

    init(config c: ViTConfig, numClasses K: Int, B: Int, T: Int, saves: SavedActivations, gradients: Bool, masks: Int) {
        self.B = B; self.T = T
        let D = c.dim, m = c.numPatches
        stack = TransformerStack(depth: c.depth, dim: D, heads: c.heads, mlp: c.mlpDim, B: B, T: T, saves: saves, eps: c.layerNormEps)
        patches = Buffer([B * m, c.patchDim]); emb = Buffer([B * m, D])
        feat = Buffer([B, D]); lnf = Buffer([B, D]); lnfMean = Buffer([B]); lnfRstd = Buffer([B])
        logits = Buffer([B, K]); probs = Buffer([B, K])
        preNorm = c.normPre ? Buffer([B * T, D]) : nil; preMean = c.normPre ? Buffer([B * T]) : nil; preRstd = c.normPre ? Buffer([B * T]) : nil
        let tokens = c.headNorm == .tokens
        tokenNorm = tokens ? Buffer([B * T, D]) : nil; tokenMean = tokens ? Buffer([B * T]) : nil; tokenRstd = tokens ? Buffer([B * T]) : nil
        grads = gradients ? Gradients(c: c, K: K, B: B, T: T, masks: masks) : nil
        let optional = [preNorm, preMean, preRstd, tokenNorm, tokenMean, tokenRstd].compactMap { $0 }
        floats = stack.allocatedFloats + ([patches, emb, feat, lnf, lnfMean, lnfRstd, logits, probs] + optional).map(\.count).reduce(0, +)
            + (grads?.floats ?? 0)
    }

    /// Floats a workspace of this shape allocates (memory planning), classes aside.
    static func floats(config c: ViTConfig, B: Int, T: Int, saves: SavedActivations, gradients: Bool) -> Int {
        let D = c.dim, m = c.numPatches
        let stack = TransformerStack.floats(depth: c.depth, dim: D, heads: c.heads, mlp: c.mlpDim, B: B, T: T, saves: saves)
        let extraRows = (c.normPre ? 1 : 0) + (c.headNorm == .tokens ? 1 : 0)
        let io = B * m * (c.patchDim + D) + 4 * B * D + extraRows * B * T * (D + 2)
        let grads = gradients ? B * m * (c.patchDim + D) + 2 * B * D + B * T * D + extraRows * B * T * D : 0
        return stack + io + grads
    }
}
