import Foundation
import Testing
@testable import SPTEngine
import CBF16

/// `--precision bf16`: oneDNN's bf16 products against the fp32 ones, within bf16's error, and
/// the PyTorch reference fixture run in bf16 within stated tolerances.
@Suite(.enabled(if: Precision.hardware, "needs AVX512-BF16 or AMX"))
struct BF16Tests {
    /// |bf16 − fp32| ≤ 2⁻⁷ · Σₖ|aₖ bₖ| per element: each operand rounded to 8 significant bits
    /// (relative error ≤ 2⁻⁹ each), the sum accumulated in fp32. Also checks the result is not
    /// the fp32 one (the bf16 path ran).
    func check(transB: Bool, M: Int, N: Int, K: Int, beta: Float, seed: UInt64) {
        var rng = RNG(seed: seed)
        let a = Buffer([M, K]), w = Buffer([transB ? N : K, transB ? K : N])
        for i in 0..<a.count { a[i] = rng.normal() }
        for i in 0..<w.count { w[i] = rng.normal() }
        let start = Buffer([M, N])
        for i in 0..<start.count { start[i] = rng.normal() }
        let w16 = UnsafeMutablePointer<UInt16>.allocate(capacity: w.count)
        defer { w16.deallocate() }
        spt_f32_to_bf16(w.ptr, w16, w.count)
        let ref = Buffer([M, N], start.array), out = Buffer([M, N], start.array)
        gemm(transB: transB, M: M, N: N, K: K, a.ptr, lda: K, w.ptr, ldb: transB ? K : N, beta: beta, ref.ptr, ldc: N)
        gemmBF16(transB: transB, M: M, N: N, K: K, .f32(a.ptr), lda: K, UnsafePointer(w16), ldb: transB ? K : N, beta: beta, out.ptr, ldc: N)
        var worst = 0.0, differs = false
        for m in 0..<M {
            for n in 0..<N {
                var mass = 0.0
                for k in 0..<K { mass += Double(abs(a[m * K + k] * (transB ? w[n * K + k] : w[k * N + n]))) }
                let d = Double(abs(out[m * N + n] - ref[m * N + n]))
                worst = max(worst, d / mass)
                differs = differs || d > 0
            }
        }
        print("bf16 gemm \(M)×\(K)×\(N) transB \(transB) beta \(beta): largest error \(worst) of Σ|ab| (bound \(pow(2.0, -7)))")
        #expect(worst <= pow(2.0, -7) && differs)
    }

    /// Rounding is round-to-nearest-even at every length (the vector body and its masked tail):
    /// checked bit for bit against the rule written out here, on ties both ways, the largest
    /// finite values, infinities and NaN.
    @Test func roundingIsNearestEven() {
        func reference(_ x: Float) -> UInt16 {
            if x.isNaN { return UInt16(x.bitPattern >> 16) | 0x40 }
            let u = x.bitPattern
            return UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
        }
        var rng = RNG(seed: 9)
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               Float(bitPattern: 0x3f80_8000), Float(bitPattern: 0x3f81_8000),   // ties: down to even, up to even
                               Float(bitPattern: 0x3f80_8001), Float(bitPattern: 0x3f80_7fff), .leastNormalMagnitude]
        while values.count < 77 { values.append(rng.normal() * 100) }
        let out = UnsafeMutablePointer<UInt16>.allocate(capacity: values.count)
        defer { out.deallocate() }
        for n in 0...values.count {
            out.initialize(repeating: 0xdead, count: values.count)
            values.withUnsafeBufferPointer { spt_f32_to_bf16($0.baseAddress!, out, n) }
            for i in 0..<values.count {
                #expect(out[i] == (i < n ? reference(values[i]) : 0xdead), "length \(n), value \(values[i])")
            }
        }
    }

    @Test func randomAndViTShapedProducts() {
        check(transB: true, M: 37, N: 29, K: 53, beta: 0, seed: 1)
        check(transB: false, M: 41, N: 17, K: 23, beta: 1, seed: 2)
        check(transB: true, M: 2 * 197, N: 576, K: 192, beta: 1, seed: 3)    // qkv of a ViT-Ti, two images
        check(transB: false, M: 2 * 197, N: 192, K: 768, beta: 0, seed: 4)   // fc2's input gradient
    }

    @Test func attentionProductsRoundBothOperands() {
        var rng = RNG(seed: 5)
        let T = 50, dh = 16, ld = 48
        let q = Buffer([T, ld]), ref = Buffer([T, T]), out = Buffer([T, T])
        for i in 0..<q.count { q[i] = rng.normal() }
        gemmSerial(transB: true, M: T, N: T, K: dh, alpha: 0.25, q.ptr, lda: ld, q.ptr + dh, ldb: ld, ref.ptr, ldc: T)
        gemmSerial(transB: true, M: T, N: T, K: dh, alpha: 0.25, q.ptr, lda: ld, q.ptr + dh, ldb: ld, out.ptr, ldc: T, bf16: true)
        let worst = zip(out.array, ref.array).map { abs($0 - $1) }.max()!
        #expect(worst > 0 && worst < 0.05)
        // Transposed A with accumulation (dv += Pᵀ·dy).
        let refT = Buffer([T, dh], Array(repeating: 1, count: T * dh)), outT = Buffer([T, dh], Array(repeating: 1, count: T * dh))
        gemmSerial(transA: true, M: T, N: dh, K: T, ref.ptr, lda: T, q.ptr, ldb: ld, beta: 1, refT.ptr, ldc: dh)
        gemmSerial(transA: true, M: T, N: dh, K: T, ref.ptr, lda: T, q.ptr, ldb: ld, beta: 1, outT.ptr, ldc: dh, bf16: true)
        let rel = zip(outT.array, refT.array).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(rel > 0 && rel < 0.05)
    }

    /// The activations stored in bf16 by the kernels that make them (LayerNorm, GELU and GELU's
    /// gradient) are bit for bit the fp32 results rounded, and the products that read them equal
    /// the products that rounded fp32 inputs themselves — forward, input gradient and weight
    /// gradient: storing them in bf16 changes no value, only the memory traffic.
    @Test func activationsStoredInBF16ChangeNoValue() {
        var rng = RNG(seed: 31)
        let M = 70, K = 40, N = 52  // rows not a multiple of the workers' chunks, K not of 8
        func random(_ shape: [Int]) -> Buffer { let b = Buffer(shape); for i in 0..<b.count { b[i] = rng.normal() }; return b }
        func rounded(_ b: Buffer) -> [UInt16] { var o = [UInt16](repeating: 0, count: b.count); spt_f32_to_bf16(b.ptr, &o, b.count); return o }
        func half(_ b: Buffer) -> [UInt16] { Array(UnsafeBufferPointer(start: bf16View(b.ptr), count: b.count)) }
        let x = random([M, K]), gamma = random([K]), beta = random([K]), dy = random([M, K])
        // LayerNorm
        let ln = Buffer([M, K]), ln16 = Buffer([M, K]), mean = Buffer([M]), rstd = Buffer([M]), mean2 = Buffer([M]), rstd2 = Buffer([M])
        layerNormForward(ln.ptr, mean.ptr, rstd.ptr, x.ptr, gamma.ptr, beta.ptr, N: M, C: K)
        layerNormForward(bf16View(ln16.ptr), mean2.ptr, rstd2.ptr, x.ptr, gamma.ptr, beta.ptr, N: M, C: K)
        #expect(half(ln16).prefix(M * K).elementsEqual(rounded(ln)) && mean.array == mean2.array && rstd.array == rstd2.array)
        // GELU and its gradient
        let g = Buffer([M, K]), g16 = Buffer([M, K]), dg = Buffer([M, K]), dg16 = Buffer([M, K])
        geluForward(g.ptr, x.ptr, N: M * K)
        geluForward(bf16View(g16.ptr), x.ptr, N: M * K)
        #expect(half(g16).prefix(M * K).elementsEqual(rounded(g)))
        geluBackward(dinp: dg.ptr, dy.ptr, x.ptr, N: M * K, accumulate: false)
        geluBackward(dinp16: bf16View(dg16.ptr), dy.ptr, x.ptr, N: M * K)
        #expect(half(dg16).prefix(M * K).elementsEqual(rounded(dg)))
        // The products: bf16-stored inputs against fp32 inputs rounded by the product
        let w = random([N, K]), bias = random([N]), res = random([M, N]), dout = random([M, N])
        var w16 = rounded(w)
        w16.withUnsafeMutableBufferPointer { w16 in
            let wp = UnsafePointer(w16.baseAddress!)
            let a = Buffer([M, N]), b = Buffer([M, N])
            matmulForward(a.ptr, ln.ptr, w.ptr, bias.ptr, M: M, K: K, N: N, residual: res.ptr, weight16: wp)
            matmulForward(b.ptr, UnsafePointer(bf16View(ln16.ptr)), weight16: wp, bias.ptr, M: M, K: K, N: N, residual: res.ptr)
            #expect(a.array == b.array)
            let dinA = random([M, K]), dinB = Buffer([M, K], dinA.array), dwA = random([N, K]), dwB = Buffer([N, K], dwA.array)
            let dbA = random([N]), dbB = Buffer([N], dbA.array)
            matmulBackward(dinp: dinA.ptr, dweight: dwA.ptr, dbias: dbA.ptr, dout.ptr, ln.ptr, w.ptr, M: M, K: K, N: N, weight16: wp)
            matmulBackward(dinp: dinB.ptr, dweight: dwB.ptr, dbias: dbB.ptr, .f32(dout.ptr), inp16: UnsafePointer(bf16View(ln16.ptr)), weight16: wp,
                           M: M, K: K, N: N)
            #expect(dinA.array == dinB.array && dwA.array == dwB.array && dbA.array == dbB.array)
            // An output gradient already bf16 (GELU's, above) against the same values in fp32.
            let d16 = Buffer([M, N]), dfp = Buffer([M, N])
            spt_f32_to_bf16(dout.ptr, bf16View(d16.ptr), M * N)
            let rounded32 = rounded(dout).map { Float(bitPattern: UInt32($0) << 16) }
            for i in 0..<M * N { dfp[i] = rounded32[i] }
            let dinC = Buffer([M, K]), dinD = Buffer([M, K])
            matmulBackward(dinp: dinC.ptr, dweight: nil, dbias: nil, dfp.ptr, ln.ptr, w.ptr, M: M, K: K, N: N, accumulateInput: false, weight16: wp)
            matmulBackward(dinp: dinD.ptr, dweight: nil, dbias: nil, .bf16(UnsafePointer(bf16View(d16.ptr))), inp16: UnsafePointer(bf16View(ln16.ptr)),
                           weight16: wp, M: M, K: K, N: N, accumulateInput: false)
            #expect(dinC.array == dinD.array)
        }
    }

    /// Attention under bf16 rounds each operand once (softmax writes the probabilities rounded,
    /// the head's output gradient is rounded once, the pass forming dS writes P and dS rounded)
    /// and still computes bit for bit what the same products give when each rounds its own fp32
    /// operands — the composition written out here, per head.
    @Test func attentionRoundingOnceChangesNoValue() {
        var rng = RNG(seed: 37)
        let B = 2, T = 23, D = 48, H = 3, dh = D / H, ld = 3 * D  // T not a multiple of 8 or 16
        let scale = 1 / Float(dh).squareRoot()
        func random(_ shape: [Int]) -> Buffer { let b = Buffer(shape); for i in 0..<b.count { b[i] = rng.normal() }; return b }
        let qkv = random([B, T, ld]), dout = random([B, T, D]), start = random([B, T, ld])
        let out = Buffer([B, T, D]), att = Buffer([B, H, T, T]), dqkv = Buffer([B, T, ld], start.array)
        attentionForward(out.ptr, att.ptr, qkv.ptr, B: B, T: T, D: D, H: H, bf16: true)
        attentionBackward(dqkv: dqkv.ptr, dout.ptr, qkv.ptr, att.ptr, B: B, T: T, D: D, H: H, bf16: true)
        let refOut = Buffer([B, T, D]), refAtt = Buffer([B, H, T, T]), refD = Buffer([B, T, ld], start.array), ds = Buffer([T, T])
        for b in 0..<B {
            for h in 0..<H {
                let q = qkv.ptr + b * T * ld + h * dh, k = q + D, v = q + 2 * D
                let dq = refD.ptr + b * T * ld + h * dh, dk = dq + D, dv = dq + 2 * D
                let a = refAtt.ptr + (b * H + h) * T * T, dy = dout.ptr + b * T * D + h * dh
                gemmSerial(transB: true, M: T, N: T, K: dh, alpha: scale, q, lda: ld, k, ldb: ld, a, ldc: T, bf16: true)
                softmaxRows(a, rows: T, cols: T)
                gemmSerial(M: T, N: dh, K: T, a, lda: T, v, ldb: ld, refOut.ptr + b * T * D + h * dh, ldc: D, bf16: true)
                gemmSerial(transB: true, M: T, N: T, K: dh, dy, lda: D, v, ldb: ld, ds.ptr, ldc: T, bf16: true)
                gemmSerial(transA: true, M: T, N: dh, K: T, a, lda: T, dy, ldb: D, beta: 1, dv, ldc: ld, bf16: true)
                for t in 0..<T {
                    let pt = a + t * T, g = ds.ptr + t * T
                    var dot: Float = 0
                    for u in 0..<T { dot += pt[u] * g[u] }
                    for u in 0..<T { g[u] = pt[u] * (g[u] - dot) }
                }
                gemmSerial(M: T, N: dh, K: T, alpha: scale, ds.ptr, lda: T, k, ldb: ld, beta: 1, dq, ldc: ld, bf16: true)
                gemmSerial(transA: true, M: T, N: dh, K: T, alpha: scale, ds.ptr, lda: T, q, ldb: ld, beta: 1, dk, ldc: ld, bf16: true)
            }
        }
        let sameP = att.array == refAtt.array, sameOut = out.array == refOut.array, sameGrad = dqkv.array == refD.array
        #expect(sameP && sameOut, "attention's forward pass changed")
        #expect(sameGrad && dqkv.array != start.array, "attention's backward pass changed")
    }

    @Test func autoFallsBackWithoutTheInstructions() throws {
        #expect(try Precision.auto.resolved(hardware: false).0 == .fp32)
        #expect(try Precision.auto.resolved(hardware: false).1.contains("neither AVX512-BF16 nor AMX"))
        #expect(try Precision.auto.resolved(hardware: true).0 == .bf16)
        #expect(throws: EngineError.self) { try Precision.bf16.resolved(hardware: false) }
    }

    /// The reference fixture's VPT model in bf16: logits within 0.03 + 3% of PyTorch's fp32,
    /// five AdamW steps' losses within 1%; NMI is measured with fp32 products, so it equals the
    /// fp32 model's exactly (with bf16 tokens it moved by up to 6.6e-3 relative here).
    @Test(arguments: [false, true])
    func referenceFixtureInBF16(deep: Bool) throws {
        let fx = try ReferenceFixtureTests()
        let name = "\(deep ? "deep" : "shallow")_\(deep ? "mean" : "cls")"
        let pooling: Pooling = deep ? .mean : .cls
        let input = Buffer([fx.batch, fx.config.channels, fx.config.imageSize, fx.config.imageSize], try fx.f.floats("input"))
        let model = try fx.makeModel(deep: deep, pooling: pooling, mode: .prompt, precision: .bf16)
        let fp32 = try fx.makeModel(deep: deep, pooling: pooling, mode: .prompt)
        var rng = RNG(seed: 0)
        _ = model.forward(images: input.ptr, B: fx.batch, labels: fx.labels, rng: &rng)
        try fx.expectClose(model.logits.array, "\(name).logits", atol: 0.03, rtol: 0.03)
        for mode in [NMI.Mode.tokens, .attention] {
            let a = NMI.perBlock(model, images: input.ptr, B: fx.batch, mode: mode, normalization: .sqrt)
            let b = NMI.perBlock(fp32, images: input.ptr, B: fx.batch, mode: mode, normalization: .sqrt)
            #expect(a == b, "NMI (\(mode)) of the bf16 model differs from the fp32 one")
        }
        let h = try JSONSerialization.jsonObject(with: Data(fx.f.metadata["adamw"]!.utf8)) as! [String: Any]
        let oc = OptimizerConfig(kind: .adamw, lr: Float(h["lr"] as! Double), weightDecay: Float(h["weight_decay"] as! Double))
        let opt = Optimizer(oc, [(model.task, model.taskGrads)])
        var losses: [Float] = []
        for _ in 0..<5 {
            losses.append(model.forward(images: input.ptr, B: fx.batch, labels: fx.labels, rng: &rng)!)
            model.zeroGrads()
            model.backward(labels: fx.labels)
            opt.step(lr: oc.lr)
        }
        try fx.expectClose(losses, "\(name).adamw_losses", atol: 0, rtol: 0.01)
    }

    /// Cosine similarity of two gradients (1 when both are zero).
    func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x * y); aa += Double(x * x); bb += Double(y * y) }
        return aa == 0 && bb == 0 ? 1 : ab / (aa * bb).squareRoot()
    }

    /// Full fine-tuning in bf16: every backbone gradient points where PyTorch's fp32 one does,
    /// and once the fp32 weights have moved the next forward pass uses them — its logits equal
    /// those of a model built in bf16 from the moved weights.
    @Test func fullFineTuningInBF16() throws {
        let fx = try ReferenceFixtureTests()
        let input = Buffer([fx.batch, fx.config.channels, fx.config.imageSize, fx.config.imageSize], try fx.f.floats("input"))
        let model = try fx.makeModel(deep: false, pooling: .cls, mode: .full, precision: .bf16)
        var rng = RNG(seed: 0)
        _ = model.forward(images: input.ptr, B: fx.batch, labels: fx.labels, rng: &rng)
        model.zeroGrads()
        model.backward(labels: fx.labels)
        var worst = 1.0, worstName = ""
        for spec in model.backbone.layout.specs {
            let c = cosine(model.backboneGrads!.array(spec.name), try fx.f.floats("shallow_cls.grad.\(spec.name)"))
            if c < worst { worst = c; worstName = spec.name }
        }
        print("bf16 full fine-tuning: lowest gradient cosine \(worst) (\(worstName))")
        #expect(worst > 0.99)

        let before = model.logits.array
        let opt = Optimizer(OptimizerConfig(kind: .adamw, lr: 1e-2, weightDecay: 0), [(model.backbone, model.backboneGrads!)])
        opt.step(lr: 1e-2)
        _ = model.forward(images: input.ptr, B: fx.batch, labels: fx.labels, rng: &rng)
        let moved = ParameterSet(model.backbone.layout)
        moved.values.ptr.update(from: model.backbone.values.ptr, count: moved.values.count)
        let fresh = ViTClassifier(config: fx.config, backbone: moved, numClasses: fx.classes, prompts: model.prompts,
                                  pooling: .cls, mode: .prompt, precision: .bf16)
        fresh.task.values.ptr.update(from: model.task.values.ptr, count: fresh.task.values.count)
        _ = fresh.forward(images: input.ptr, B: fx.batch, labels: fx.labels, rng: &rng)
        #expect(model.logits.array == fresh.logits.array && model.logits.array != before)
    }

    /// MAE pretraining in bf16: the loss within 1% of fp32's and every gradient within a cosine
    /// of 0.99, over three AdamW steps (the weights' bf16 copies follow them).
    @Test func maePretrainingInBF16() {
        let c = ViTConfig(imageSize: 16, patchSize: 4, channels: 1, dim: 32, depth: 2, heads: 2, mlpDim: 64)
        var mc = MAEConfig()
        mc.decoderDim = 16; mc.decoderDepth = 1; mc.decoderHeads = 2
        var rng = RNG(seed: 3)
        let images = Buffer([8, 1, 16, 16])
        for i in 0..<images.count { images[i] = rng.normal() }
        let models = [Precision.fp32, .bf16].map { MAEModel(config: c, mae: mc, backbone: c.initBackbone(seed: 1), seed: 1, precision: $0) }
        let opts = models.map { Optimizer(OptimizerConfig(kind: .adamw, lr: 1e-3, weightDecay: 0.05),
                                          [($0.backbone, $0.backboneGrads), ($0.decoder, $0.decoderGrads)]) }
        for step in 0..<3 {
            var losses: [Float] = []
            for (m, opt) in zip(models, opts) {
                var r = RNG(seed: UInt64(step))
                losses.append(m.forward(images: images.ptr, B: 8, rng: &r))
                m.zeroGrads()
                m.backward()
                opt.step(lr: 1e-3)
            }
            #expect(abs(losses[1] - losses[0]) <= 0.01 * losses[0], "step \(step): loss \(losses[1]) in bf16, \(losses[0]) in fp32")
            for spec in models[0].backbone.layout.specs where spec.name != "pos_embed" {
                let cos = cosine(models[1].backboneGrads.array(spec.name), models[0].backboneGrads.array(spec.name))
                #expect(cos > 0.99, "step \(step): \(spec.name) gradient cosine \(cos)")
            }
            #expect(models[1].backbone.values.array != models[0].backbone.values.array)
        }
    }
}
