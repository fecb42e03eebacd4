import CBF16
import Foundation

// LayerNorm over the last dimension C of N rows, eps 1e-6 (timm ViT) unless given (CLIP: 1e-5).
// out, inp: [N, C]; weight, bias: [C]; mean, rstd: [N] (saved for backward).

public let layerNormEps: Float = 1e-6

public func layerNormForward(_ out: FPtr, _ mean: FPtr, _ rstd: FPtr,
                             _ inp: FPtr, _ weight: FPtr, _ bias: FPtr, N: Int, C: Int, eps: Float = layerNormEps) {
    layerNormRows(out, nil, mean, rstd, inp, weight, bias, N: N, C: C, eps: eps)
}

/// LayerNorm written straight to bf16 (`--precision bf16`: its output only feeds the next
/// product, which rounds it anyway); each row goes through a cache-resident fp32 row first.
public func layerNormForward(_ out16: BF16MutablePtr, _ mean: FPtr, _ rstd: FPtr,
                             _ inp: FPtr, _ weight: FPtr, _ bias: FPtr, N: Int, C: Int, eps: Float = layerNormEps) {
    layerNormRows(nil, out16, mean, rstd, inp, weight, bias, N: N, C: C, eps: eps)
}

/// Rows normalized into `out`, or into a scratch row rounded to bf16 into `out16`.
@inline(__always)
private func layerNormRows(_ out: FPtr?, _ out16: BF16MutablePtr?, _ mean: FPtr, _ rstd: FPtr, _ inp: FPtr, _ weight: FPtr, _ bias: FPtr,
                           N: Int, C: Int, eps: Float) {
    Parallel.chunks(N, minChunk: 32) { _, rows in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: out16 == nil ? 1 : C) { scratch in
            for r in rows {
                let x = inp + r * C, y = out.map { $0 + r * C } ?? scratch.baseAddress!
                // row sums in eight lanes: a scalar float sum does not vectorize (its order is fixed)
                var m8 = Float8()
                forEachFloat8(0..<C) { i, n in m8 += load8(x, i, n) }
                let m = m8.sum() / Float(C)
                var v8 = Float8()
                forEachFloat8(0..<C) { i, n in
                    var d = load8(x, i, n) - m
                    for k in n..<8 { d[k] = 0 }
                    v8 += d * d
                }
                let v = v8.sum() / Float(C)
                let s = 1 / (v + eps).squareRoot()
                for i in 0..<C { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
                if let out16 { spt_f32_to_bf16(y, out16 + r * C, C) }
                mean[r] = m
                rstd[r] = s
            }
        }
    }
}

/// Accumulates dinp; dweight and dbias are accumulated too unless nil (frozen).
public func layerNormBackward(dinp: FPtr, dweight: FPtr?, dbias: FPtr?,
                              _ dout: FPtr, _ inp: FPtr, _ weight: FPtr, _ mean: FPtr, _ rstd: FPtr,
                              N: Int, C: Int) {
    let wantParams = dweight != nil || dbias != nil
    let chunks = Parallel.chunkCount(N, minChunk: 32)
    let partial = FPtr.allocate(capacity: wantParams ? chunks * 2 * C : 1)
    defer { partial.deallocate() }
    if wantParams { partial.initialize(repeating: 0, count: chunks * 2 * C) }
    Parallel.chunks(N, minChunk: 32) { t, rows in
        let pw = partial + t * 2 * C, pb = pw + C
        for r in rows {
            let x = inp + r * C, dy = dout + r * C, dx = dinp + r * C
            let m = mean[r], s = rstd[r]
            var a8 = Float8(), b8 = Float8()
            forEachFloat8(0..<C) { i, n in
                let norm = (load8(x, i, n) - m) * s
                let dnorm = load8(dy, i, n) * load8(weight, i, n)  // zero in padding lanes
                a8 += dnorm
                b8 += dnorm * norm
            }
            let dnormMean = a8.sum() / Float(C), dnormNormMean = b8.sum() / Float(C)
            for i in 0..<C {
                let norm = (x[i] - m) * s
                let dnorm = dy[i] * weight[i]
                dx[i] += s * (dnorm - dnormMean - norm * dnormNormMean)
                if wantParams {
                    pw[i] += dy[i] * norm
                    pb[i] += dy[i]
                }
            }
        }
    }
    guard wantParams else { return }
    for t in 0..<chunks {
        let pw = partial + t * 2 * C, pb = pw + C
        if let dweight { for i in 0..<C { dweight[i] += pw[i] } }
        if let dbias { for i in 0..<C { dbias[i] += pb[i] } }
    }
}
