import Foundation

/// What the classifier's head reads: the CLS token (supervised backbones) or the mean of all
/// non-CLS tokens (MAE-style backbones); either way followed by the final LayerNorm.
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
    public let backbone: ParameterSet
    public let backboneGrads: ParameterSet?
    /// `prompt_embeddings` [layers, Np, D] (when Np > 0), `head.weight` [K, D], `head.bias` [K].
    public let task: ParameterSet
    public let taskGrads: ParameterSet
    private let blocks: [BlockParams]
    private let blockGrads: [BlockParams]?
    private var workspaces: [Int: Workspace] = [:]
    private var last: (ws: Workspace, withPrompts: Bool, training: Bool)?

    public init(config: ViTConfig, backbone: ParameterSet, numClasses: Int, prompts: PromptSpec,
                pooling: Pooling, mode: TuningMode) {
        precondition(backbone.layout == config.backboneLayout, "backbone layout does not match config")
        self.config = config; self.numClasses = numClasses; self.prompts = prompts
        self.pooling = pooling; self.mode = mode; self.backbone = backbone
        task = ParameterSet(Self.taskLayout(config: config, numClasses: numClasses, prompts: prompts))
        taskGrads = ParameterSet(task.layout)
        backboneGrads = mode == .full ? ParameterSet(backbone.layout) : nil
        blocks = (0..<config.depth).map { BlockParams(backbone, prefix: "blocks.\($0).") }
        blockGrads = backboneGrads.map { g in (0..<config.depth).map { BlockParams(g, prefix: "blocks.\($0).") } }
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
    @discardableResult
    public func forward(images: FPtr, B: Int, labels: [Int32]? = nil, training: Bool = false,
                        withPrompts: Bool = true, rng: inout RNG) -> Float? {
        let c = config, D = c.dim, m = c.numPatches
        let Np = withPrompts ? prompts.count : 0, T = 1 + Np + m
        let ws = workspace(B: B, T: T)
        last = (ws, withPrompts, training)
        patchify(ws.patches.ptr, images, B: B, C: c.channels, Hh: c.imageSize, W: c.imageSize, p: c.patchSize)
        matmulForward(ws.emb.ptr, ws.patches.ptr, backbone.ptr("patch_embed.proj.weight"),
                      backbone.ptr("patch_embed.proj.bias"), M: B * m, K: c.patchDim, N: D)
        let x0 = ws.stack.acts[0].xin.ptr, cls = backbone.ptr("cls_token"), pos = backbone.ptr("pos_embed")
        for b in 0..<B {
            let seq = x0 + b * T * D
            for d in 0..<D { seq[d] = cls[d] + pos[d] }
            for j in 0..<m {
                let dst = seq + (1 + Np + j) * D, e = ws.emb.ptr + (b * m + j) * D, p = pos + (1 + j) * D
                for d in 0..<D { dst[d] = e[d] + p[d] }
            }
        }
        if Np > 0 {
            let useDropout = training && prompts.dropout > 0
            if useDropout { fillDropoutMasks(ws, B: B, rng: &rng) }
            insertPrompts(layer: 0, into: x0, ws: ws, B: B, T: T, dropout: useDropout)
            ws.stack.forward(blocks) { i, xin in
                if prompts.deep { insertPrompts(layer: i, into: xin, ws: ws, B: B, T: T, dropout: useDropout) }
            }
        } else {
            ws.stack.forward(blocks)
        }
        pool(ws, B: B, T: T)
        layerNormForward(ws.lnf.ptr, ws.lnfMean.ptr, ws.lnfRstd.ptr, ws.feat.ptr,
                         backbone.ptr("norm.weight"), backbone.ptr("norm.bias"), N: B, C: D)
        matmulForward(ws.logits.ptr, ws.lnf.ptr, task.ptr("head.weight"), task.ptr("head.bias"), M: B, K: D, N: numClasses)
        guard let labels else { return nil }
        return crossEntropyForward(ws.probs.ptr, ws.logits.ptr, labels, B: B, K: numClasses)
    }

    /// Head inputs of the last forward (pooled tokens after the final LayerNorm), [B, D].
    public var features: Buffer { last!.ws.lnf }
    /// Logits of the last forward, [B, K].
    public var logits: Buffer { last!.ws.logits }
    /// The last forward's transformer state (block inputs, qkv): for NMI and token gathering.
    public var stack: TransformerStack { last!.ws.stack }
    /// Patch embeddings before the position embedding, [B, m, D], of the last forward.
    public var patchEmbeddings: Buffer { last!.ws.emb }

    // MARK: backward

    /// Accumulates gradients of the last forward's loss into `taskGrads` (and `backboneGrads` in
    /// full mode). `inputGrad` ([B, C, H, W]), when given, receives the image gradient.
    public func backward(labels: [Int32], inputGrad: FPtr? = nil) {
        guard let (ws, withPrompts, training) = last else { preconditionFailure("backward before forward") }
        let c = config, D = c.dim, m = c.numPatches, B = ws.B, T = ws.T
        let Np = withPrompts ? prompts.count : 0
        ws.dlogits.zero()
        crossEntropyBackward(dlogits: ws.dlogits.ptr, ws.probs.ptr, labels, B: B, K: numClasses)
        ws.dlnf.zero()
        matmulBackward(dinp: ws.dlnf.ptr, dweight: taskGrads.ptr("head.weight"), dbias: taskGrads.ptr("head.bias"),
                       ws.dlogits.ptr, ws.lnf.ptr, task.ptr("head.weight"), M: B, K: D, N: numClasses)
        if mode == .linear && inputGrad == nil { return }
        let bg = backboneGrads
        ws.dfeat.zero()
        layerNormBackward(dinp: ws.dfeat.ptr, dweight: bg?.ptr("norm.weight"), dbias: bg?.ptr("norm.bias"),
                          ws.dlnf.ptr, ws.feat.ptr, backbone.ptr("norm.weight"), ws.lnfMean.ptr, ws.lnfRstd.ptr, N: B, C: D)
        let dxL = ws.dout.ptr
        ws.dout.zero()
        for b in 0..<B {
            let g = ws.dfeat.ptr + b * D
            switch pooling {
            case .cls:
                (dxL + b * T * D).update(from: g, count: D)
            case .mean:
                let s = 1 / Float(T - 1)
                for t in 1..<T { let dst = dxL + (b * T + t) * D; for d in 0..<D { dst[d] = g[d] * s } }
            }
        }
        let dropout = training && prompts.dropout > 0
        let dx0 = ws.stack.backward(dxL, blocks, grads: blockGrads) { i, dxin in
            guard Np > 0, prompts.deep || i == 0 else { return }
            accumulatePromptGrad(layer: prompts.deep ? i : 0, from: dxin, ws: ws, B: B, T: T, dropout: dropout)
            if prompts.deep && i > 0 {
                for b in 0..<B { (dxin + (b * T + 1) * D).update(repeating: 0, count: Np * D) }
            }
        }.ptr
        guard bg != nil || inputGrad != nil else { return }
        for b in 0..<B {
            (ws.demb.ptr + b * m * D).update(from: dx0 + (b * T + 1 + Np) * D, count: m * D)
        }
        if let bg {
            let dcls = bg.ptr("cls_token"), dpos = bg.ptr("pos_embed")
            for b in 0..<B {
                let seq = dx0 + b * T * D
                for d in 0..<D { dcls[d] += seq[d]; dpos[d] += seq[d] }
                for j in 0..<m {
                    let g = seq + (1 + Np + j) * D, p = dpos + (1 + j) * D
                    for d in 0..<D { p[d] += g[d] }
                }
            }
        }
        if inputGrad != nil { ws.dpatches.zero() }
        matmulBackward(dinp: inputGrad != nil ? ws.dpatches.ptr : nil,
                       dweight: bg?.ptr("patch_embed.proj.weight"), dbias: bg?.ptr("patch_embed.proj.bias"),
                       ws.demb.ptr, ws.patches.ptr, backbone.ptr("patch_embed.proj.weight"), M: B * m, K: c.patchDim, N: D)
        if let inputGrad {
            unpatchifyAccumulate(inputGrad, ws.dpatches.ptr, B: B, C: c.channels, Hh: c.imageSize, W: c.imageSize, p: c.patchSize)
        }
    }

    public func zeroGrads() {
        taskGrads.values.zero()
        backboneGrads?.values.zero()
    }

    /// Frees the activations (they are re-created on the next forward).
    public func releaseWorkspaces() { workspaces = [:]; last = nil }

    // MARK: helpers

    private func workspace(B: Int, T: Int) -> Workspace {
        let key = B << 20 | T
        if let ws = workspaces[key] { return ws }
        let ws = Workspace(config: config, numClasses: numClasses, B: B, T: T,
                           promptValues: prompts.layers(depth: config.depth) * B * prompts.count * config.dim)
        workspaces[key] = ws
        return ws
    }

    private func pool(_ ws: Workspace, B: Int, T: Int) {
        let D = config.dim, xL = ws.stack.output.ptr
        for b in 0..<B {
            let f = ws.feat.ptr + b * D
            switch pooling {
            case .cls:
                f.update(from: xL + b * T * D, count: D)
            case .mean:
                f.update(repeating: 0, count: D)
                for t in 1..<T { let x = xL + (b * T + t) * D; for d in 0..<D { f[d] += x[d] } }
                let s = 1 / Float(T - 1)
                for d in 0..<D { f[d] *= s }
            }
        }
    }

    private func fillDropoutMasks(_ ws: Workspace, B: Int, rng: inout RNG) {
        let keep = 1 - prompts.dropout, scale = 1 / keep
        for i in 0..<ws.masks.count { ws.masks[i] = rng.uniform() < keep ? scale : 0 }
    }

    private func insertPrompts(layer: Int, into x: FPtr, ws: Workspace, B: Int, T: Int, dropout: Bool) {
        let D = config.dim, Np = prompts.count, P = task.ptr("prompt_embeddings") + layer * Np * D
        for b in 0..<B {
            let dst = x + (b * T + 1) * D
            if dropout {
                let mk = ws.masks.ptr + (layer * B + b) * Np * D
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
            let src = dx + (b * T + 1) * D
            if dropout {
                let mk = ws.masks.ptr + (layer * B + b) * Np * D
                for i in 0..<(Np * D) { dP[i] += src[i] * mk[i] }
            } else {
                for i in 0..<(Np * D) { dP[i] += src[i] }
            }
        }
    }
}

/// Everything one forward/backward of B images with T tokens needs.
final class Workspace {
    let B, T: Int
    let stack: TransformerStack
    let patches, dpatches, emb, demb, feat, lnf, lnfMean, lnfRstd, logits, probs: Buffer
    let dlogits, dlnf, dfeat, dout, masks: Buffer

    init(config c: ViTConfig, numClasses K: Int, B: Int, T: Int, promptValues: Int) {
        self.B = B; self.T = T
        let D = c.dim, m = c.numPatches
        stack = TransformerStack(depth: c.depth, dim: D, heads: c.heads, mlp: c.mlpDim, B: B, T: T)
        patches = Buffer([B * m, c.patchDim]); dpatches = Buffer([B * m, c.patchDim]); emb = Buffer([B * m, D]); demb = Buffer([B * m, D])
        feat = Buffer([B, D]); lnf = Buffer([B, D]); lnfMean = Buffer([B]); lnfRstd = Buffer([B])
        logits = Buffer([B, K]); probs = Buffer([B, K]); dlogits = Buffer([B, K])
        dlnf = Buffer([B, D]); dfeat = Buffer([B, D]); dout = Buffer([B * T, D]); masks = Buffer([promptValues])
    }
}
