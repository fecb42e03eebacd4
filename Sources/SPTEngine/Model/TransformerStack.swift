/// Pointers to one pre-norm block's tensors (values or gradients) inside a ParameterSet.
public struct BlockParams {
    public let ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fc1w, fc1b, fc2w, fc2b: FPtr
    /// bf16 copies of the weights (`Precision.bf16`; nil: fp32 products).
    public private(set) var qkvw16, projw16, fc1w16, fc2w16: BF16Ptr?
    public var bf16: Bool { qkvw16 != nil }

    /// The block's tensors; with `bf16`, the weights' bf16 copies too (`ParameterSet.bf16`).
    public init(_ set: ParameterSet, prefix p: String, bf16: Bool) {
        self.init(set, prefix: p)
        if bf16 {
            qkvw16 = set.bf16(p + "attn.qkv.weight"); projw16 = set.bf16(p + "attn.proj.weight")
            fc1w16 = set.bf16(p + "mlp.fc1.weight"); fc2w16 = set.bf16(p + "mlp.fc2.weight")
        }
    }

    public init(_ set: ParameterSet, prefix p: String) {
        ln1w = set.ptr(p + "norm1.weight"); ln1b = set.ptr(p + "norm1.bias")
        qkvw = set.ptr(p + "attn.qkv.weight"); qkvb = set.ptr(p + "attn.qkv.bias")
        projw = set.ptr(p + "attn.proj.weight"); projb = set.ptr(p + "attn.proj.bias")
        ln2w = set.ptr(p + "norm2.weight"); ln2b = set.ptr(p + "norm2.bias")
        fc1w = set.ptr(p + "mlp.fc1.weight"); fc1b = set.ptr(p + "mlp.fc1.bias")
        fc2w = set.ptr(p + "mlp.fc2.weight"); fc2b = set.ptr(p + "mlp.fc2.bias")
    }

    static func addLayout(_ l: inout ParameterLayout, prefix p: String, dim: Int, mlp: Int) {
        l.add(p + "norm1.weight", [dim]); l.add(p + "norm1.bias", [dim])
        l.add(p + "attn.qkv.weight", [3 * dim, dim]); l.add(p + "attn.qkv.bias", [3 * dim])
        l.add(p + "attn.proj.weight", [dim, dim]); l.add(p + "attn.proj.bias", [dim])
        l.add(p + "norm2.weight", [dim]); l.add(p + "norm2.bias", [dim])
        l.add(p + "mlp.fc1.weight", [mlp, dim]); l.add(p + "mlp.fc1.bias", [mlp])
        l.add(p + "mlp.fc2.weight", [dim, mlp]); l.add(p + "mlp.fc2.bias", [dim])
    }
}

/// What a stack keeps from its forward pass for a backward pass.
public enum SavedActivations: Sendable {
    /// Everything: weight gradients follow (full fine-tuning, pretraining).
    case all
    /// What the gradient of the input needs through frozen blocks (VPT): block inputs, attention,
    /// the MLP's hidden pre-activation; LayerNorm outputs, attention output and GELU output are
    /// scratch shared by all blocks.
    case inputGradients
    /// Nothing: one block's scratch serves every block (evaluation, token gathering, NMI).
    case none
}

/// Forward state of one block for up to B sequences of T tokens. Under `.inputGradients` some
/// buffers are shared with the other blocks; under `.none` all of them are.
public final class BlockActivations {
    /// Block input (after any deep-prompt replacement), [B, T, D].
    public let xin: Buffer
    let ln1, ln1Mean, ln1Rstd: Buffer
    /// Packed q, k, v of the LayerNorm-ed input, [B, T, 3D].
    public let qkv: Buffer
    let att, atty, xmid, ln2, ln2Mean, ln2Rstd, fch, fcg: Buffer

    /// Buffers that are this block's own under `saves`, others taken from `shared`.
    init(rows: Int, B: Int, T: Int, D: Int, H: Int, mlp: Int, shared: BlockActivations? = nil) {
        func own(_ shape: [Int], _ sharedBuffer: Buffer?) -> Buffer { sharedBuffer ?? Buffer(shape) }
        let s = shared
        xin = Buffer([rows, D]); ln1Mean = Buffer([rows]); ln1Rstd = Buffer([rows])
        qkv = Buffer([rows, 3 * D]); att = Buffer([B, H, T, T]); xmid = Buffer([rows, D])
        ln2Mean = Buffer([rows]); ln2Rstd = Buffer([rows]); fch = Buffer([rows, mlp])
        ln1 = own([rows, D], s?.ln1); atty = own([rows, D], s?.atty); ln2 = own([rows, D], s?.ln2); fcg = own([rows, mlp], s?.fcg)
    }

    var buffers: [Buffer] { [xin, ln1, ln1Mean, ln1Rstd, qkv, att, atty, xmid, ln2, ln2Mean, ln2Rstd, fch, fcg] }
}

/// A stack of pre-norm transformer blocks with its activations, sized for up to B×T tokens.
/// Callers write the stack input into `acts[0].xin`, run `forward`, read `output`.
public final class TransformerStack {
    public let depth, dim, heads, mlp, B, T: Int
    public let saves: SavedActivations
    /// LayerNorm epsilon (timm's ViT 1e-6, CLIP 1e-5).
    public let eps: Float
    /// Per block; under `.none` every entry is the same object.
    public let acts: [BlockActivations]
    /// Output of the last block, [B, T, D].
    public let output: Buffer
    // Backward scratch, shared by all blocks (absent under `.none`).
    private let dx, dln, datty, dqkv, dfch, dfcg: Buffer?
    /// Floats this stack allocated (each shared buffer counted once).
    public let allocatedFloats: Int

    public init(depth: Int, dim: Int, heads: Int, mlp: Int, B: Int, T: Int, saves: SavedActivations = .all, eps: Float = layerNormEps) {
        self.eps = eps; self.depth = depth; self.dim = dim; self.heads = heads; self.mlp = mlp; self.B = B; self.T = T; self.saves = saves
        let rows = B * T
        func block(_ shared: BlockActivations? = nil) -> BlockActivations {
            BlockActivations(rows: rows, B: B, T: T, D: dim, H: heads, mlp: mlp, shared: shared)
        }
        switch saves {
        case .all: acts = (0..<depth).map { _ in block() }
        case .inputGradients:
            let first = block()
            acts = [first] + (1..<depth).map { _ in block(first) }
        case .none:
            let one = block()
            acts = Array(repeating: one, count: depth)
        }
        output = Buffer([rows, dim])
        if case .none = saves {
            dx = nil; dln = nil; datty = nil; dqkv = nil; dfch = nil; dfcg = nil
        } else {
            dx = Buffer([rows, dim]); dln = Buffer([rows, dim]); datty = Buffer([rows, dim])
            dqkv = Buffer([rows, 3 * dim]); dfch = Buffer([rows, mlp]); dfcg = Buffer([rows, mlp])
        }
        var seen = Set<ObjectIdentifier>(), floats = 0
        for b in acts.flatMap(\.buffers) + [output] + [dx, dln, datty, dqkv, dfch, dfcg].compactMap({ $0 })
        where seen.insert(ObjectIdentifier(b)).inserted { floats += b.count }
        allocatedFloats = floats
    }

    /// Floats a stack of this shape allocates, without allocating it (memory planning).
    public static func floats(depth: Int, dim: Int, heads: Int, mlp: Int, B: Int, T: Int, saves: SavedActivations) -> Int {
        let rows = B * T
        let own = rows * (dim + 2 + 3 * dim + dim + 2 + mlp) + B * heads * T * T  // xin, stats, qkv, xmid, stats, fch, att
        let scratch = rows * (3 * dim + mlp)                                      // ln1, atty, ln2, fcg
        let backward = rows * (6 * dim + 2 * mlp)                                 // dx, dln, datty, dqkv, dfch, dfcg
        switch saves {
        case .all: return depth * (own + scratch) + rows * dim + backward
        case .inputGradients: return depth * own + scratch + rows * dim + backward
        case .none: return own + scratch + rows * dim
        }
    }

    /// Runs every block on the first `n` sequences (default: all B). `beforeBlock(i, xin)` may
    /// rewrite block i's input in place (deep prompts); it is called for i ≥ 1 after the previous
    /// block wrote it. `observe(i, block)` sees block i's input, q, k, v and attention
    /// probabilities (NMI, attention to the prompts, token gathering) before they are overwritten.
    public func forward(_ params: [BlockParams], n: Int? = nil, beforeBlock: (Int, FPtr) -> Void = { _, _ in },
                        observe: ((Int, BlockActivations) -> Void)? = nil) {
        let Bn = n ?? B
        precondition(Bn <= B, "batch \(Bn) exceeds the stack's \(B)")
        let M = Bn * T, D = dim
        for i in 0..<depth {
            let a = acts[i], w = params[i]
            if i > 0 { beforeBlock(i, a.xin.ptr) }
            // Under `.none` the next block's input is this block's own: written last, in place.
            let out = i + 1 < depth ? acts[i + 1].xin.ptr : output.ptr
            // Under bf16 the LayerNorm and GELU outputs feed products alone: their kernels write
            // them rounded (bf16View), as the products would have rounded them — the same values.
            if let qkv16 = w.qkvw16 {
                layerNormForward(bf16View(a.ln1.ptr), a.ln1Mean.ptr, a.ln1Rstd.ptr, a.xin.ptr, w.ln1w, w.ln1b, N: M, C: D, eps: eps)
                matmulForward(a.qkv.ptr, bf16View(a.ln1.ptr), weight16: qkv16, w.qkvb, M: M, K: D, N: 3 * D)
            } else {
                layerNormForward(a.ln1.ptr, a.ln1Mean.ptr, a.ln1Rstd.ptr, a.xin.ptr, w.ln1w, w.ln1b, N: M, C: D, eps: eps)
                matmulForward(a.qkv.ptr, a.ln1.ptr, w.qkvw, w.qkvb, M: M, K: D, N: 3 * D)
            }
            attentionForward(a.atty.ptr, a.att.ptr, a.qkv.ptr, B: Bn, T: T, D: D, H: heads, bf16: w.bf16)
            observe?(i, a)
            matmulForward(a.xmid.ptr, a.atty.ptr, w.projw, w.projb, M: M, K: D, N: D, residual: a.xin.ptr, weight16: w.projw16)
            if let fc116 = w.fc1w16, let fc216 = w.fc2w16 {
                layerNormForward(bf16View(a.ln2.ptr), a.ln2Mean.ptr, a.ln2Rstd.ptr, a.xmid.ptr, w.ln2w, w.ln2b, N: M, C: D, eps: eps)
                matmulForward(a.fch.ptr, bf16View(a.ln2.ptr), weight16: fc116, w.fc1b, M: M, K: D, N: mlp)
                geluForward(bf16View(a.fcg.ptr), a.fch.ptr, N: M * mlp)
                matmulForward(out, bf16View(a.fcg.ptr), weight16: fc216, w.fc2b, M: M, K: mlp, N: D, residual: a.xmid.ptr)
            } else {
                layerNormForward(a.ln2.ptr, a.ln2Mean.ptr, a.ln2Rstd.ptr, a.xmid.ptr, w.ln2w, w.ln2b, N: M, C: D, eps: eps)
                matmulForward(a.fch.ptr, a.ln2.ptr, w.fc1w, w.fc1b, M: M, K: D, N: mlp)
                geluForward(a.fcg.ptr, a.fch.ptr, N: M * mlp)
                matmulForward(out, a.fcg.ptr, w.fc2w, w.fc2b, M: M, K: mlp, N: D, residual: a.xmid.ptr)
            }
        }
    }
    /// Back-propagates `dout` (gradient of the stack output, [B, T, D]) and returns the gradient
    /// of the stack input (a buffer owned by the stack, valid until the next call). Weight
    /// gradients are accumulated only when `grads` is given (frozen blocks pass nil).
    /// `afterBlock(i, dxin)` sees the gradient of block i's input and may edit it (deep prompts).
    public func backward(_ dout: FPtr, _ params: [BlockParams], grads: [BlockParams]?,
                         afterBlock: (Int, FPtr) -> Void = { _, _ in }) -> Buffer {
        guard let dx, let dln, let datty, let dqkv, let dfch, let dfcg else { preconditionFailure("backward through an inference-only stack") }
        if case .inputGradients = saves { precondition(grads == nil, "weight gradients need a stack that saves .all") }
        let M = B * T, D = dim
        dx.ptr.update(from: dout, count: M * D)
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let a = acts[i], w = params[i], g = grads?[i]
            // x_out = x_mid + fc2(gelu(fc1(ln2(x_mid))))
            // The scratch buffers are overwritten, not accumulated into: no zeroing passes.
            if let fc116 = w.fc1w16, let fc216 = w.fc2w16 {
                matmulBackward(dinp: dfcg.ptr, dweight: g?.fc2w, dbias: g?.fc2b, .f32(dx.ptr), inp16: bf16View(a.fcg.ptr), weight16: fc216,
                               M: M, K: mlp, N: D, accumulateInput: false)
                if let g {  // fc1's bias gradient sums the fp32 values
                    geluBackward(dinp: dfch.ptr, dfcg.ptr, a.fch.ptr, N: M * mlp, accumulate: false)
                    matmulBackward(dinp: dln.ptr, dweight: g.fc1w, dbias: g.fc1b, .f32(dfch.ptr), inp16: bf16View(a.ln2.ptr), weight16: fc116,
                                   M: M, K: D, N: mlp, accumulateInput: false)
                } else {    // frozen: GELU's gradient only feeds fc1's product, written rounded
                    geluBackward(dinp16: bf16View(dfch.ptr), dfcg.ptr, a.fch.ptr, N: M * mlp)
                    matmulBackward(dinp: dln.ptr, dweight: nil, dbias: nil, .bf16(bf16View(dfch.ptr)), inp16: bf16View(a.ln2.ptr), weight16: fc116,
                                   M: M, K: D, N: mlp, accumulateInput: false)
                }
            } else {
                matmulBackward(dinp: dfcg.ptr, dweight: g?.fc2w, dbias: g?.fc2b, dx.ptr, a.fcg.ptr, w.fc2w, M: M, K: mlp, N: D,
                               accumulateInput: false)
                geluBackward(dinp: dfch.ptr, dfcg.ptr, a.fch.ptr, N: M * mlp, accumulate: false)
                matmulBackward(dinp: dln.ptr, dweight: g?.fc1w, dbias: g?.fc1b, dfch.ptr, a.ln2.ptr, w.fc1w, M: M, K: D, N: mlp,
                               accumulateInput: false)
            }
            layerNormBackward(dinp: dx.ptr, dweight: g?.ln2w, dbias: g?.ln2b, dln.ptr, a.xmid.ptr, w.ln2w,
                              a.ln2Mean.ptr, a.ln2Rstd.ptr, N: M, C: D)
            // x_mid = x_in + proj(attention(qkv(ln1(x_in))))
            matmulBackward(dinp: datty.ptr, dweight: g?.projw, dbias: g?.projb, dx.ptr, a.atty.ptr, w.projw, M: M, K: D, N: D,
                           accumulateInput: false, weight16: w.projw16)
            attentionBackward(dqkv: dqkv.ptr, datty.ptr, a.qkv.ptr, a.att.ptr, B: B, T: T, D: D, H: heads, accumulate: false, bf16: w.bf16)
            if let qkv16 = w.qkvw16 {
                matmulBackward(dinp: dln.ptr, dweight: g?.qkvw, dbias: g?.qkvb, .f32(dqkv.ptr), inp16: bf16View(a.ln1.ptr), weight16: qkv16,
                               M: M, K: D, N: 3 * D, accumulateInput: false)
            } else {
                matmulBackward(dinp: dln.ptr, dweight: g?.qkvw, dbias: g?.qkvb, dqkv.ptr, a.ln1.ptr, w.qkvw, M: M, K: D, N: 3 * D,
                               accumulateInput: false)
            }
            layerNormBackward(dinp: dx.ptr, dweight: g?.ln1w, dbias: g?.ln1b, dln.ptr, a.xin.ptr, w.ln1w,
                              a.ln1Mean.ptr, a.ln1Rstd.ptr, N: M, C: D)
            afterBlock(i, dx.ptr)
        }
        return dx
    }
}
