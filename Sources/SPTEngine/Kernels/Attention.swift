import CBF16
import Foundation

// Multi-head self-attention core (the qkv and output projections are matmuls around it).
// qkv: [B, T, 3·D] laid out as timm's reshape(B, T, 3, H, dh), so head h of q/k/v starts at
// column h·dh, D + h·dh, 2D + h·dh. att: [B, H, T, T] softmax probabilities. out: [B, T, D].
//
// Each (b, h) pair is independent: pairs are split across workers, and each pair's products are
// single-threaded BLAS calls addressing q, k, v and out in place through leading dimensions.
// (Hand-written axpy loops here were ~5× slower than BLAS: they stream the output row through
// memory once per term instead of keeping a register tile.)

/// `bf16`: the per-head products read bf16 operands (autocast's recipe): softmax writes the
/// probabilities rounded beside its fp32 ones (kept for the backward pass), q, k and v are rounded
/// by the products.
public func attentionForward(_ out: FPtr, _ att: FPtr, _ qkv: FPtr, B: Int, T: Int, D: Int, H: Int, bf16: Bool = false) {
    let dh = D / H, ld = 3 * D
    let scale = 1 / Float(dh).squareRoot()
    Parallel.chunks(B * H) { _, pairs in
        let p16 = BF16MutablePtr.allocate(capacity: bf16 ? T * T : 0)
        defer { p16.deallocate() }
        for bh in pairs {
            let b = bh / H, h = bh % H
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let a = att + bh * T * T, o = out + b * T * D + h * dh
            gemmSerial(transB: true, M: T, N: T, K: dh, alpha: scale, q, lda: ld, k, ldb: ld, a, ldc: T, bf16: bf16)
            if bf16 {
                softmaxRows(a, rows: T, cols: T, rounded: p16)
                gemmSerialBF16(M: T, N: dh, K: T, .bf16(p16), lda: T, .f32(v), ldb: ld, o, ldc: D)
            } else {
                softmaxRows(a, rows: T, cols: T)
                gemmSerial(M: T, N: dh, K: T, a, lda: T, v, ldb: ld, o, ldc: D)
            }
        }
    }
}

/// Accumulates dqkv from dout (overwrites it when `accumulate` is false). Under `bf16` the head's
/// output gradient is rounded once for its two products, and the pass that forms dS writes P and
/// dS rounded for theirs: the same values the products would round, each rounded once.
public func attentionBackward(dqkv: FPtr, _ dout: FPtr, _ qkv: FPtr, _ att: FPtr, B: Int, T: Int, D: Int, H: Int,
                              accumulate: Bool = true, bf16: Bool = false) {
    let dh = D / H, ld = 3 * D, beta: Float = accumulate ? 1 : 0
    let scale = 1 / Float(dh).squareRoot()
    Parallel.chunks(B * H) { _, pairs in
        let ds = FPtr.allocate(capacity: T * T)
        let half = BF16MutablePtr.allocate(capacity: bf16 ? 2 * T * T + T * dh : 0)
        defer { ds.deallocate(); half.deallocate() }
        let p16 = half, ds16 = half + T * T, dy16 = half + 2 * T * T
        for bh in pairs {
            let b = bh / H, h = bh % H
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let dq = dqkv + b * T * ld + h * dh, dk = dq + D, dv = dq + 2 * D
            let p = att + bh * T * T
            let dy = dout + b * T * D + h * dh
            // dP = dy · vᵀ
            if bf16 {
                for t in 0..<T { spt_f32_to_bf16(dy + t * D, dy16 + t * dh, dh) }
                gemmSerialBF16(transB: true, M: T, N: T, K: dh, .bf16(dy16), lda: dh, .f32(v), ldb: ld, ds, ldc: T)
            } else {
                gemmSerial(transB: true, M: T, N: T, K: dh, dy, lda: D, v, ldb: ld, ds, ldc: T)
            }
            // dS = P ⊙ (dP − Σ dP ⊙ P), row by row
            for t in 0..<T {
                let pt = p + t * T, g = ds + t * T
                var dot: Float = 0
                for u in 0..<T { dot += pt[u] * g[u] }
                for u in 0..<T { g[u] = pt[u] * (g[u] - dot) }
                if bf16 {
                    spt_f32_to_bf16(pt, p16 + t * T, T)
                    spt_f32_to_bf16(g, ds16 + t * T, T)
                }
            }
            // dv += Pᵀ · dy ; dq += scale · dS · k ; dk += scale · dSᵀ · q
            if bf16 {
                gemmSerialBF16(transA: true, M: T, N: dh, K: T, .bf16(p16), lda: T, .bf16(dy16), ldb: dh, beta: beta, dv, ldc: ld)
                gemmSerialBF16(M: T, N: dh, K: T, alpha: scale, .bf16(ds16), lda: T, .f32(k), ldb: ld, beta: beta, dq, ldc: ld)
                gemmSerialBF16(transA: true, M: T, N: dh, K: T, alpha: scale, .bf16(ds16), lda: T, .f32(q), ldb: ld, beta: beta, dk, ldc: ld)
            } else {
                gemmSerial(transA: true, M: T, N: dh, K: T, p, lda: T, dy, ldb: D, beta: beta, dv, ldc: ld)
                gemmSerial(M: T, N: dh, K: T, alpha: scale, ds, lda: T, k, ldb: ld, beta: beta, dq, ldc: ld)
                gemmSerial(transA: true, M: T, N: dh, K: T, alpha: scale, ds, lda: T, q, ldb: ld, beta: beta, dk, ldc: ld)
            }
        }
    }
}

/// In-place numerically stable softmax of each row, eight lanes at a time throughout (a scalar
/// max and a horizontal sum per eight values made this a fifth of the attention kernel); with
/// `rounded`, each finished row is also written there in bf16 while it is in cache.
@inline(__always)
public func softmaxRows(_ x: FPtr, rows: Int, cols: Int, rounded: BF16MutablePtr? = nil) {
    for r in 0..<rows {
        let row = x + r * cols
        var m8 = Float8(repeating: row[0])
        forEachFloat8(0..<cols) { c, n in
            var v = load8(row, c, n)
            for k in n..<8 { v[k] = row[0] }  // lanes past the row's end must not win
            m8.replace(with: v, where: v .> m8)
        }
        let mx = m8.max()
        var s8 = Float8()
        forEachFloat8(0..<cols) { c, n in
            var e = vexp(load8(row, c, n) - mx)
            for k in n..<8 { e[k] = 0 }
            store8(e, row, c, n)
            s8 += e
        }
        let inv = 1 / s8.sum()
        forEachFloat8(0..<cols) { c, n in store8(load8(row, c, n) * inv, row, c, n) }
        if let rounded { spt_f32_to_bf16(row, rounded + r * cols, cols) }
    }
}
