/// Pointers to one pre-norm block's tensors (values or gradients) inside a ParameterSet.
public struct BlockParams {
    public let ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fc1w, fc1b, fc2w, fc2b: FPtr

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

/// Saved forward state of one block for a batch of B sequences of T tokens.
public final class BlockActivations {
    /// Block input (after any deep-prompt replacement), [B, T, D].
    public let xin: Buffer
    let ln1, ln1Mean, ln1Rstd: Buffer
    /// Packed q, k, v of the LayerNorm-ed input, [B, T, 3D].
    public let qkv: Buffer
    let att, atty, xmid, ln2, ln2Mean, ln2Rstd, fch, fcg: Buffer

    init(rows: Int, B: Int, T: Int, D: Int, H: Int, mlp: Int) {
        xin = Buffer([rows, D]); ln1 = Buffer([rows, D]); ln1Mean = Buffer([rows]); ln1Rstd = Buffer([rows])
        qkv = Buffer([rows, 3 * D]); att = Buffer([B, H, T, T]); atty = Buffer([rows, D])
        xmid = Buffer([rows, D]); ln2 = Buffer([rows, D]); ln2Mean = Buffer([rows]); ln2Rstd = Buffer([rows])
        fch = Buffer([rows, mlp]); fcg = Buffer([rows, mlp])
    }
}

/// A stack of pre-norm transformer blocks with its activations, sized for B×T tokens.
/// Callers write the stack input into `acts[0].xin`, run `forward`, read `output`.
public final class TransformerStack {
    public let depth, dim, heads, mlp, B, T: Int
    public let acts: [BlockActivations]
    /// Output of the last block, [B, T, D].
    public let output: Buffer
    // Backward scratch, shared by all blocks.
    private let dx, dln, datty, dqkv, dfch, dfcg: Buffer

    public init(depth: Int, dim: Int, heads: Int, mlp: Int, B: Int, T: Int) {
        self.depth = depth; self.dim = dim; self.heads = heads; self.mlp = mlp; self.B = B; self.T = T
        let rows = B * T
        acts = (0..<depth).map { _ in BlockActivations(rows: rows, B: B, T: T, D: dim, H: heads, mlp: mlp) }
        output = Buffer([rows, dim])
        dx = Buffer([rows, dim]); dln = Buffer([rows, dim]); datty = Buffer([rows, dim])
        dqkv = Buffer([rows, 3 * dim]); dfch = Buffer([rows, mlp]); dfcg = Buffer([rows, mlp])
    }

    /// Runs every block. `beforeBlock(i, xin)` may rewrite block i's input in place (deep
    /// prompts); it is called for i ≥ 1 after the previous block wrote it.
    public func forward(_ params: [BlockParams], beforeBlock: (Int, FPtr) -> Void = { _, _ in }) {
        let M = B * T, D = dim
        for i in 0..<depth {
            let a = acts[i], w = params[i]
            if i > 0 { beforeBlock(i, a.xin.ptr) }
            let out = i + 1 < depth ? acts[i + 1].xin.ptr : output.ptr
            layerNormForward(a.ln1.ptr, a.ln1Mean.ptr, a.ln1Rstd.ptr, a.xin.ptr, w.ln1w, w.ln1b, N: M, C: D)
            matmulForward(a.qkv.ptr, a.ln1.ptr, w.qkvw, w.qkvb, M: M, K: D, N: 3 * D)
            attentionForward(a.atty.ptr, a.att.ptr, a.qkv.ptr, B: B, T: T, D: D, H: heads)
            matmulForward(a.xmid.ptr, a.atty.ptr, w.projw, w.projb, M: M, K: D, N: D, residual: a.xin.ptr)
            layerNormForward(a.ln2.ptr, a.ln2Mean.ptr, a.ln2Rstd.ptr, a.xmid.ptr, w.ln2w, w.ln2b, N: M, C: D)
            matmulForward(a.fch.ptr, a.ln2.ptr, w.fc1w, w.fc1b, M: M, K: D, N: mlp)
            geluForward(a.fcg.ptr, a.fch.ptr, N: M * mlp)
            matmulForward(out, a.fcg.ptr, w.fc2w, w.fc2b, M: M, K: mlp, N: D, residual: a.xmid.ptr)
        }
    }

    /// Back-propagates `dout` (gradient of the stack output, [B, T, D]) and returns the gradient
    /// of the stack input (a buffer owned by the stack, valid until the next call). Weight
    /// gradients are accumulated only when `grads` is given (frozen blocks pass nil).
    /// `afterBlock(i, dxin)` sees the gradient of block i's input and may edit it (deep prompts).
    public func backward(_ dout: FPtr, _ params: [BlockParams], grads: [BlockParams]?,
                         afterBlock: (Int, FPtr) -> Void = { _, _ in }) -> Buffer {
        let M = B * T, D = dim
        dx.ptr.update(from: dout, count: M * D)
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let a = acts[i], w = params[i], g = grads?[i]
            // x_out = x_mid + fc2(gelu(fc1(ln2(x_mid))))
            // The scratch buffers are overwritten, not accumulated into: no zeroing passes.
            matmulBackward(dinp: dfcg.ptr, dweight: g?.fc2w, dbias: g?.fc2b, dx.ptr, a.fcg.ptr, w.fc2w, M: M, K: mlp, N: D,
                           accumulateInput: false)
            geluBackward(dinp: dfch.ptr, dfcg.ptr, a.fch.ptr, N: M * mlp, accumulate: false)
            matmulBackward(dinp: dln.ptr, dweight: g?.fc1w, dbias: g?.fc1b, dfch.ptr, a.ln2.ptr, w.fc1w, M: M, K: D, N: mlp,
                           accumulateInput: false)
            layerNormBackward(dinp: dx.ptr, dweight: g?.ln2w, dbias: g?.ln2b, dln.ptr, a.xmid.ptr, w.ln2w,
                              a.ln2Mean.ptr, a.ln2Rstd.ptr, N: M, C: D)
            // x_mid = x_in + proj(attention(qkv(ln1(x_in))))
            matmulBackward(dinp: datty.ptr, dweight: g?.projw, dbias: g?.projb, dx.ptr, a.atty.ptr, w.projw, M: M, K: D, N: D,
                           accumulateInput: false)
            attentionBackward(dqkv: dqkv.ptr, datty.ptr, a.qkv.ptr, a.att.ptr, B: B, T: T, D: D, H: heads, accumulate: false)
            matmulBackward(dinp: dln.ptr, dweight: g?.qkvw, dbias: g?.qkvb, dqkv.ptr, a.ln1.ptr, w.qkvw, M: M, K: D, N: 3 * D,
                           accumulateInput: false)
            layerNormBackward(dinp: dx.ptr, dweight: g?.ln1w, dbias: g?.ln1b, dln.ptr, a.xin.ptr, w.ln1w,
                              a.ln1Mean.ptr, a.ln1Rstd.ptr, N: M, C: D)
            afterBlock(i, dx.ptr)
        }
        return dx
    }
}
