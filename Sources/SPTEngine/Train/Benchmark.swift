import CBF16
import COpenBLAS
import Foundation

/// Throughput of the engine's steps on a config, and the GEMM peak on the model's own shapes,
/// measured in one process so that the ratios stay meaningful on a noisy, shared machine.
public enum Benchmark {
    public struct Step: Codable, Sendable {
        public var kind: StepKind
        public var imagesPerSecond: Double
        public var gflops: Double
        public var fractionOfPeak: Double
        /// The process's peak resident memory while this step ran (its high-water mark reset before).
        public var peakRSSBytes: Int?
    }

    /// Resets the process's peak-RSS mark (Linux `clear_refs` 5) after handing freed memory back
    /// to the system, so that a step's peak is its own; false where unsupported.
    @discardableResult
    public static func resetPeakRSS() -> Bool {
        malloc_trim(0)
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        return (try? h.write(contentsOf: Data("5".utf8))) != nil
    }

    /// The process's peak resident memory (VmHWM), in bytes.
    public static func peakRSS() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }

    /// Forward FLOPs per image with T tokens (matmuls and attention; elementwise work not counted).
    public static func forwardFLOPs(_ c: ViTConfig, tokens T: Int) -> Double {
        let D = Double(c.dim), M = Double(c.mlpDim), t = Double(T)
        let block = 2 * t * D * 3 * D + 4 * t * t * D + 2 * t * D * D + 4 * t * D * M
        return Double(c.depth) * block + 2 * Double(c.numPatches * c.patchDim) * D
    }

    /// Attention's share of forward FLOPs (its backward costs twice its forward).
    static func attentionFLOPs(_ c: ViTConfig, tokens T: Int) -> Double { Double(c.depth) * 4 * Double(T * T * c.dim) }

    /// Best GFLOP/s of `gemm` over the model's matmul shapes (rows = batch · tokens).
    /// `precision` bf16: the bf16 product (a frozen weight's bf16 copy, activations rounded per call).
    public static func gemmPeak(_ c: ViTConfig, rows: Int, seconds: Double = 0.3, precision: Precision = .fp32) -> Double {
        let shapes = [(c.dim, 3 * c.dim), (c.dim, c.dim), (c.dim, c.mlpDim), (c.mlpDim, c.dim)]
        var best = 0.0
        for (K, N) in shapes {
            let a = Buffer([rows, K]), w = Buffer([N, K]), out = Buffer([rows, N])
            for i in 0..<a.count { a[i] = Float(i % 7) * 0.1 }
            for i in 0..<w.count { w[i] = Float(i % 5) * 0.1 }
            let flops = 2 * Double(rows * K * N)
            let w16 = UnsafeMutablePointer<UInt16>.allocate(capacity: precision == .bf16 ? N * K : 0)
            defer { w16.deallocate() }
            if precision == .bf16 { spt_f32_to_bf16(w.ptr, w16, N * K) }
            best = max(best, measure(seconds: seconds) {
                if precision == .bf16 {
                    gemmBF16(transB: true, M: rows, N: N, K: K, .f32(a.ptr), lda: K, w16, ldb: K, out.ptr, ldc: N)
                } else {
                    gemm(transB: true, M: rows, N: N, K: K, a.ptr, lda: K, w.ptr, ldb: K, out.ptr, ldc: N)
                }
            }.map { flops / $0 / 1e9 } ?? 0)
        }
        return best
    }

    /// Median seconds per call after warm-up, over at least `seconds` of calls.
    public static func measure(seconds: Double, warmup: Int = 3, _ body: () -> Void) -> Double? {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        let end = Date().addingTimeInterval(seconds)
        repeat {
            let t = Date(); body(); times.append(Date().timeIntervalSince(t))
        } while Date() < end || times.count < 5
        times.sort()
        return times[times.count / 2]
    }

    /// The steps `steps` times, in its order. The raw value is the step's one name: `spt bench
    /// --steps` takes it, the report prints it, tools/bench/torch_bench.py keys PyTorch's numbers by it.
    public enum StepKind: String, CaseIterable, Codable, Sendable {
        case forward, vptShallow = "vpt-shallow", vptDeep = "vpt-deep", linearProbe = "linear-probe", full

        /// The prompts and tuning mode the step's model has.
        func model(prompts: Int) -> (PromptSpec, TuningMode) {
            switch self {
            case .forward, .vptShallow: (PromptSpec(count: prompts), .prompt)
            case .vptDeep: (PromptSpec(count: prompts, deep: true), .prompt)
            case .linearProbe: (PromptSpec(count: 0), .linear)
            case .full: (PromptSpec(count: 0), .full)
            }
        }
    }

    /// Forward, VPT-shallow, VPT-deep, linear-probe and full fine-tuning steps (AdamW) on random
    /// data, each with the peak memory it took (`full` false leaves out full fine-tuning; `only`
    /// names the steps to run, e.g. one to profile).
    public static func steps(_ c: ViTConfig, batch B: Int, prompts Np: Int, classes K: Int, peak: Double, seconds: Double = 2,
                             full: Bool = true, precision: Precision = .fp32, only: Set<StepKind>? = nil) -> [Step] {
        var rng = RNG(seed: 0)
        let images = Buffer([B, c.channels, c.imageSize, c.imageSize])
        for i in 0..<images.count { images[i] = rng.normal() }
        let labels = (0..<B).map { Int32($0 % K) }
        var out: [Step] = []
        func record(_ kind: StepKind, _ flopsPerImage: Double, _ t: Double?) {
            guard let t else { return }
            let gf = flopsPerImage * Double(B) / t / 1e9
            out.append(Step(kind: kind, imagesPerSecond: Double(B) / t, gflops: gf, fractionOfPeak: gf / peak, peakRSSBytes: peakRSS()))
        }
        let F = forwardFLOPs(c, tokens: c.tokens(prompts: Np))
        for kind in StepKind.allCases where (full || kind != .full) && (only?.contains(kind) ?? true) {
            let (spec, mode) = kind.model(prompts: Np)
            resetPeakRSS()
            let bb = c.initBackbone(seed: 1)
            let m = ViTClassifier(config: c, backbone: bb, numClasses: K, prompts: spec, pooling: .cls, mode: mode, precision: precision)
            m.initHead(rng: &rng)
            var groups = [(m.task, m.taskGrads)]
            if let g = m.backboneGrads { groups.append((m.backbone, g)) }
            let opt = Optimizer(OptimizerConfig(kind: .adamw, lr: 1e-4, weightDecay: 0), groups)
            if kind == .forward {
                record(kind, F, measure(seconds: seconds) { m.forward(images: images.ptr, B: B, inference: true, rng: &rng) })
                continue
            }
            let t = measure(seconds: seconds) {
                m.forward(images: images.ptr, B: B, labels: labels, training: true, rng: &rng)
                m.zeroGrads()
                m.backward(labels: labels)
                opt.step(lr: 1e-4)
            }
            let Tm = c.tokens(prompts: spec.count)
            let Fm = forwardFLOPs(c, tokens: Tm), Am = attentionFLOPs(c, tokens: Tm)
            // prompt tuning: forward + input gradients (attention backward is twice its forward);
            // full fine-tuning adds the weight gradients: another forward's worth of matmuls;
            // a linear probe is a forward and the head's gradient.
            record(kind, mode == .full ? 3 * Fm + Am : mode == .linear ? Fm : 2 * Fm + Am, t)
        }
        return out
    }
}
