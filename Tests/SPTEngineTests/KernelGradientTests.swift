import Testing
import SPTEngine

/// Every kernel against central finite differences on tiny shapes.
@Suite struct KernelGradientTests {
    @Test func matmul() {
        var rng = RNG(seed: 1)
        let M = 5, K = 4, N = 3
        let x = randomBuffer([M, K], &rng), w = randomBuffer([N, K], &rng), b = randomBuffer([N], &rng)
        let dx = Buffer([M, K]), dw = Buffer([N, K]), db = Buffer([N]), out = Buffer([M, N])
        let r = gradCheck(inputs: [x, w, b], grads: [dx, dw, db], outputCount: M * N,
                          forward: { matmulForward(out.ptr, x.ptr, w.ptr, b.ptr, M: M, K: K, N: N); return out.ptr },
                          backward: { matmulBackward(dinp: dx.ptr, dweight: dw.ptr, dbias: db.ptr, $0, x.ptr, w.ptr, M: M, K: K, N: N) })
        #expect(r.worst <= 1, "\(r.detail)")
    }

    @Test func layerNorm() {
        var rng = RNG(seed: 2)
        let N = 3, C = 6
        let x = randomBuffer([N, C], &rng), w = randomBuffer([C], &rng), b = randomBuffer([C], &rng)
        let dx = Buffer([N, C]), dw = Buffer([C]), db = Buffer([C])
        let out = Buffer([N, C]), mean = Buffer([N]), rstd = Buffer([N])
        let r = gradCheck(inputs: [x, w, b], grads: [dx, dw, db], outputCount: N * C, eps: 1e-2,
                          forward: { layerNormForward(out.ptr, mean.ptr, rstd.ptr, x.ptr, w.ptr, b.ptr, N: N, C: C); return out.ptr },
                          backward: { layerNormBackward(dinp: dx.ptr, dweight: dw.ptr, dbias: db.ptr, $0, x.ptr, w.ptr, mean.ptr, rstd.ptr, N: N, C: C) })
        #expect(r.worst <= 1, "\(r.detail)")
    }

    @Test func gelu() {
        var rng = RNG(seed: 3)
        let n = 43  // not a multiple of 8: the vector tail too
        let x = randomBuffer([n], &rng, scale: 2), dx = Buffer([n]), out = Buffer([n])
        let r = gradCheck(inputs: [x], grads: [dx], outputCount: n, eps: 1e-3,
                          forward: { geluForward(out.ptr, x.ptr, N: n); return out.ptr },
                          backward: { geluBackward(dinp: dx.ptr, $0, x.ptr, N: n) })
        #expect(r.worst <= 1, "\(r.detail)")
    }

    @Test func attention() {
        var rng = RNG(seed: 4)
        let B = 2, T = 4, D = 6, H = 2
        let qkv = randomBuffer([B, T, 3 * D], &rng), dqkv = Buffer([B, T, 3 * D])
        let out = Buffer([B, T, D]), att = Buffer([B, H, T, T])
        let r = gradCheck(inputs: [qkv], grads: [dqkv], outputCount: B * T * D,
                          forward: { attentionForward(out.ptr, att.ptr, qkv.ptr, B: B, T: T, D: D, H: H); return out.ptr },
                          backward: { attentionBackward(dqkv: dqkv.ptr, $0, qkv.ptr, att.ptr, B: B, T: T, D: D, H: H) })
        #expect(r.worst <= 1, "\(r.detail)")
    }

    /// The overwrite mode the transformer's scratch buffers use gives exactly what accumulating
    /// into zeros gives, whatever the buffer held (NaN here).
    @Test func overwriteModeEqualsAccumulatingIntoZeros() {
        var rng = RNG(seed: 9)
        func check(_ count: Int, _ name: String, _ run: (FPtr, Bool) -> Void) {
            let acc = Buffer([count]), over = Buffer([count])
            over.ptr.update(repeating: .nan, count: count)
            run(acc.ptr, true); run(over.ptr, false)
            #expect((0..<count).allSatisfy { acc.ptr[$0] == over.ptr[$0] }, "\(name)")
        }
        let M = 5, K = 4, N = 3
        let dy = randomBuffer([M, N], &rng), x = randomBuffer([M, K], &rng), w = randomBuffer([N, K], &rng)
        check(M * K, "matmul") { matmulBackward(dinp: $0, dweight: nil, dbias: nil, dy.ptr, x.ptr, w.ptr, M: M, K: K, N: N, accumulateInput: $1) }
        let g = randomBuffer([43], &rng), h = randomBuffer([43], &rng, scale: 2)
        check(43, "gelu") { geluBackward(dinp: $0, g.ptr, h.ptr, N: 43, accumulate: $1) }
        let B = 2, T = 4, D = 6, H = 2
        let qkv = randomBuffer([B, T, 3 * D], &rng), out = Buffer([B, T, D]), att = Buffer([B, H, T, T])
        let dout = randomBuffer([B, T, D], &rng)
        attentionForward(out.ptr, att.ptr, qkv.ptr, B: B, T: T, D: D, H: H)
        check(B * T * 3 * D, "attention") { attentionBackward(dqkv: $0, dout.ptr, qkv.ptr, att.ptr, B: B, T: T, D: D, H: H, accumulate: $1) }
    }

    @Test func crossEntropy() {
        var rng = RNG(seed: 5)
        let B = 3, K = 4
        let labels: [Int32] = [0, 3, 1]
        let logits = randomBuffer([B, K], &rng), dlogits = Buffer([B, K]), probs = Buffer([B, K])
        let loss = Buffer([1])
        let r = gradCheck(inputs: [logits], grads: [dlogits], outputCount: 1, eps: 1e-3,
                          forward: { loss[0] = crossEntropyForward(probs.ptr, logits.ptr, labels, B: B, K: K); return loss.ptr },
                          backward: { d in
                              let g = Buffer([B, K])
                              crossEntropyBackward(dlogits: g.ptr, probs.ptr, labels, B: B, K: K)
                              for i in 0..<(B * K) { dlogits[i] += g[i] * d[0] }
                          })
        #expect(r.worst <= 1, "\(r.detail)")
    }

    @Test func patchifyAndItsAdjoint() {
        var rng = RNG(seed: 6)
        let B = 2, C = 3, S = 4, p = 2, m = (S / p) * (S / p)
        let img = randomBuffer([B, C, S, S], &rng), y = randomBuffer([B, m, C * p * p], &rng)
        let patches = Buffer([B, m, C * p * p]), back = Buffer([B, C, S, S])
        patchify(patches.ptr, img.ptr, B: B, C: C, Hh: S, W: S, p: p)
        // Patch (b=0, j=1) is columns 2…3 of rows 0…1; channel 1, row 1, column 0 of it:
        #expect(patches[(0 * m + 1) * C * p * p + (1 * p + 1) * p + 0] == img[((0 * C + 1) * S + 1) * S + 2])
        unpatchifyAccumulate(back.ptr, y.ptr, B: B, C: C, Hh: S, W: S, p: p)
        let lhs = zip(patches.array, y.array).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(img.array, back.array).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(lhs - rhs) < 1e-4)
    }
}
