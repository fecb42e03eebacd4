import Foundation

// Multi-head self-attention core (the qkv and output projections are matmuls around it).
// qkv: [B, T, 3·D] laid out as timm's reshape(B, T, 3, H, dh), so head h of q/k/v starts at
// column h·dh, D + h·dh, 2D + h·dh. att: [B, H, T, T] softmax probabilities. out: [B, T, D].

public func attentionForward(_ out: FPtr, _ att: FPtr, _ qkv: FPtr, B: Int, T: Int, D: Int, H: Int) {
    let dh = D / H, ld = 3 * D
    let scale = 1 / Float(dh).squareRoot()
    for b in 0..<B {
        for h in 0..<H {
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let a = att + (b * H + h) * T * T
            gemm(transB: true, M: T, N: T, K: dh, alpha: scale, q, lda: ld, k, ldb: ld, a, ldc: T)
            softmaxRows(a, rows: T, cols: T)
            gemm(M: T, N: dh, K: T, a, lda: T, v, ldb: ld, out + b * T * D + h * dh, ldc: D)
        }
    }
}

/// Accumulates dqkv from dout. scratch must hold T·T floats.
public func attentionBackward(dqkv: FPtr, _ dout: FPtr, _ qkv: FPtr, _ att: FPtr, scratch: FPtr,
                              B: Int, T: Int, D: Int, H: Int) {
    let dh = D / H, ld = 3 * D
    let scale = 1 / Float(dh).squareRoot()
    for b in 0..<B {
        for h in 0..<H {
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let dq = dqkv + b * T * ld + h * dh, dk = dq + D, dv = dq + 2 * D
            let a = att + (b * H + h) * T * T
            let dy = dout + b * T * D + h * dh
            let ds = scratch
            // dP = dy·vᵀ ; dv += Pᵀ·dy
            gemm(transB: true, M: T, N: T, K: dh, dy, lda: D, v, ldb: ld, ds, ldc: T)
            gemm(transA: true, M: T, N: dh, K: T, a, lda: T, dy, ldb: D, beta: 1, dv, ldc: ld)
            // dS = P ⊙ (dP − rowsum(dP ⊙ P))
            for r in 0..<T {
                let pr = a + r * T, dr = ds + r * T
                var dot: Float = 0
                for c in 0..<T { dot += pr[c] * dr[c] }
                for c in 0..<T { dr[c] = pr[c] * (dr[c] - dot) }
            }
            // dq += scale·dS·k ; dk += scale·dSᵀ·q
            gemm(M: T, N: dh, K: T, alpha: scale, ds, lda: T, k, ldb: ld, beta: 1, dq, ldc: ld)
            gemm(transA: true, M: T, N: dh, K: T, alpha: scale, ds, lda: T, q, ldb: ld, beta: 1, dk, ldc: ld)
        }
    }
}

/// In-place numerically stable softmax of each row.
@inline(__always)
public func softmaxRows(_ x: FPtr, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        var mx = -Float.infinity
        for c in 0..<cols { mx = max(mx, row[c]) }
        var sum: Float = 0
        for c in 0..<cols { let e = expf(row[c] - mx); row[c] = e; sum += e }
        let inv = 1 / sum
        for c in 0..<cols { row[c] *= inv }
    }
}
