import Foundation

// Multi-head self-attention core (the qkv and output projections are matmuls around it).
// qkv: [B, T, 3·D] laid out as timm's reshape(B, T, 3, H, dh), so head h of q/k/v starts at
// column h·dh, D + h·dh, 2D + h·dh. att: [B, H, T, T] softmax probabilities. out: [B, T, D].
//
// Heads are small (T ≈ 13…75, dh ≈ 16…64), where a BLAS call per head costs more than its
// arithmetic; so each (b, h) pair is computed here, in parallel over pairs, with every inner
// loop written as a contiguous multiply-add (k and v are transposed first) so that it vectorizes.

public func attentionForward(_ out: FPtr, _ att: FPtr, _ qkv: FPtr, B: Int, T: Int, D: Int, H: Int) {
    let dh = D / H, ld = 3 * D
    let scale = 1 / Float(dh).squareRoot()
    Parallel.chunks(B * H) { _, pairs in
        let kT = FPtr.allocate(capacity: dh * T)
        defer { kT.deallocate() }
        for bh in pairs {
            let b = bh / H, h = bh % H
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let a = att + bh * T * T
            transpose(kT, k, rows: T, cols: dh, ld: ld)
            for t in 0..<T {
                let s = a + t * T, qt = q + t * ld
                s.update(repeating: 0, count: T)
                for d in 0..<dh { axpy(s, scale * qt[d], kT + d * T, T) }
            }
            softmaxRows(a, rows: T, cols: T)
            for t in 0..<T {
                let o = out + (b * T + t) * D + h * dh, p = a + t * T
                o.update(repeating: 0, count: dh)
                for u in 0..<T { axpy(o, p[u], v + u * ld, dh) }
            }
        }
    }
}

/// Accumulates dqkv from dout.
public func attentionBackward(dqkv: FPtr, _ dout: FPtr, _ qkv: FPtr, _ att: FPtr, B: Int, T: Int, D: Int, H: Int) {
    let dh = D / H, ld = 3 * D
    let scale = 1 / Float(dh).squareRoot()
    Parallel.chunks(B * H) { _, pairs in
        let vT = FPtr.allocate(capacity: dh * T), ds = FPtr.allocate(capacity: T * T)
        defer { vT.deallocate(); ds.deallocate() }
        for bh in pairs {
            let b = bh / H, h = bh % H
            let q = qkv + b * T * ld + h * dh, k = q + D, v = q + 2 * D
            let dq = dqkv + b * T * ld + h * dh, dk = dq + D, dv = dq + 2 * D
            let a = att + bh * T * T
            let dy = dout + b * T * D + h * dh
            transpose(vT, v, rows: T, cols: dh, ld: ld)
            for t in 0..<T {
                let dyt = dy + t * D, p = a + t * T, g = ds + t * T
                // dP[t, :] = dy[t] · vᵀ ; dv[u] += P[t, u] · dy[t]
                g.update(repeating: 0, count: T)
                for d in 0..<dh { axpy(g, dyt[d], vT + d * T, T) }
                for u in 0..<T { axpy(dv + u * ld, p[u], dyt, dh) }
                // dS = P ⊙ (dP − Σ dP ⊙ P)
                var dot: Float = 0
                for u in 0..<T { dot += p[u] * g[u] }
                for u in 0..<T { g[u] = p[u] * (g[u] - dot) }
                // dq[t] += scale Σ_u dS[t, u] k[u] ; dk[u] += scale dS[t, u] q[t]
                let dqt = dq + t * ld, qt = q + t * ld
                for u in 0..<T {
                    let s = scale * g[u]
                    axpy(dqt, s, k + u * ld, dh)
                    axpy(dk + u * ld, s, qt, dh)
                }
            }
        }
    }
}

/// y[0..<n] += a · x[0..<n]
@inline(__always)
func axpy(_ y: FPtr, _ a: Float, _ x: FPtr, _ n: Int) {
    for i in 0..<n { y[i] += a * x[i] }
}

/// dst[c, r] = src[r · ld + c] for a rows × cols block.
@inline(__always)
func transpose(_ dst: FPtr, _ src: FPtr, rows: Int, cols: Int, ld: Int) {
    for r in 0..<rows { for c in 0..<cols { dst[c * rows + r] = src[r * ld + c] } }
}

/// In-place numerically stable softmax of each row.
@inline(__always)
public func softmaxRows(_ x: FPtr, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        var mx = -Float.infinity
        for c in 0..<cols { mx = max(mx, row[c]) }
        var sum: Float = 0
        forEachFloat8(0..<cols) { c, n in
            var e = vexp(load8(row, c, n) - mx)
            for k in n..<8 { e[k] = 0 }  // lanes past the row's end
            store8(e, row, c, n)
            sum += e.sum()
        }
        let inv = 1 / sum
        for c in 0..<cols { row[c] *= inv }
    }
}
