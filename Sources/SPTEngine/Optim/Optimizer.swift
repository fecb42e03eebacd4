import Foundation

/// Hyperparameters of an optimizer and its schedule. Recorded in every run log.
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case sgd, adamw }
    public var kind: Kind
    public var lr: Float
    public var weightDecay: Float
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var warmupSteps: Int = 0
    public var minLR: Float = 0
    /// VPT's schedule: the rate changes once per epoch of this many steps (their
    /// `WarmupCosineSchedule` stepped at each epoch's end), warmup from 0, not from lr/warmup.
    public var stepsPerEpoch: Int?

    public init(kind: Kind, lr: Float, weightDecay: Float, warmupSteps: Int = 0) {
        self.kind = kind; self.lr = lr; self.weightDecay = weightDecay; self.warmupSteps = warmupSteps
    }

    /// Linear warmup over `warmupSteps` (step 0 gets lr/warmup), then a half-cycle cosine from
    /// lr down to minLR at `totalSteps`. Stepped per iteration.
    public func learningRate(step: Int, totalSteps: Int) -> Float {
        if let spe = stepsPerEpoch, spe > 0 {
            let e = step / spe, warm = warmupSteps / spe, total = totalSteps / spe
            if e < warm { return lr * Float(e) / Float(warm) }
            let progress = Double(e - warm) / Double(max(1, total - warm))
            return max(0, lr * Float(0.5 * (1 + cos(Double.pi * progress))))
        }
        if step < warmupSteps { return lr * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return minLR + (lr - minLR) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// SGD with momentum (PyTorch semantics: decay added to the gradient) or AdamW (decoupled
/// decay), over parameter sets. Weight decay skips tensors whose spec says `decay: false`.
public final class Optimizer {
    public let config: OptimizerConfig
    let groups: [(params: ParameterSet, grads: ParameterSet, m: Buffer, v: Buffer)]
    public internal(set) var steps = 0

    public init(_ config: OptimizerConfig, _ groups: [(params: ParameterSet, grads: ParameterSet)]) {
        self.config = config
        self.groups = groups.map { g in
            (g.params, g.grads, Buffer([g.params.layout.count]),
             Buffer([config.kind == .adamw ? g.params.layout.count : 0]))
        }
    }

    /// One update with learning rate `lr`.
    public func step(lr: Float) {
        steps += 1
        let c = config
        let bc1 = 1 - powf(c.beta1, Float(steps)), bc2 = 1 - powf(c.beta2, Float(steps))
        for g in groups {
            for spec in g.params.layout.specs {
                let p = g.params.values.ptr + spec.offset, gr = g.grads.values.ptr + spec.offset
                let m = g.m.ptr + spec.offset, n = spec.count
                let wd = spec.decay ? c.weightDecay : 0
                switch c.kind {
                case .sgd:
                    for i in 0..<n {
                        let d = gr[i] + wd * p[i]
                        m[i] = c.momentum * m[i] + d
                        p[i] -= lr * m[i]
                    }
                case .adamw:
                    let v = g.v.ptr + spec.offset
                    for i in 0..<n {
                        p[i] -= lr * wd * p[i]
                        m[i] = c.beta1 * m[i] + (1 - c.beta1) * gr[i]
                        v[i] = c.beta2 * v[i] + (1 - c.beta2) * gr[i] * gr[i]
                        p[i] -= lr * (m[i] / bc1) / ((v[i] / bc2).squareRoot() + c.eps)
                    }
                }
            }
        }
    }

    /// L2 norm of all gradients (reported per step; NaN/Inf reveals divergence).
    public func gradNorm() -> Float {
        var s: Double = 0
        for g in groups {
            let p = g.grads.values.ptr
            for i in 0..<g.grads.values.count { s += Double(p[i]) * Double(p[i]) }
        }
        return Float(s.squareRoot())
    }
}

extension Optimizer {
    /// The moments as named tensors (`opt.<group>.m`, `opt.<group>.v`), for resumable checkpoints.
    public var stateTensors: [(name: String, shape: [Int], values: [Float])] {
        groups.enumerated().flatMap { g, x in [("opt.\(g).m", [x.m.count], x.m.array), ("opt.\(g).v", [x.v.count], x.v.array)] }
    }

    /// Loads the moments `stateTensors` wrote and the step count, every tensor checked first: a
    /// state of another size, or non-finite or negative moments, is refused by name.
    public func restore(from f: SafeTensors, steps: Int) throws {
        func fail(_ m: String) -> EngineError { .checkpoint(file: f.path, message: m) }
        for (g, x) in groups.enumerated() {
            let m = try f.floats("opt.\(g).m"), v = try f.floats("opt.\(g).v")
            guard m.count == x.m.count else { throw fail("opt.\(g).m: \(m.count) values, the optimizer has \(x.m.count)") }
            guard v.count == x.v.count else { throw fail("opt.\(g).v: \(v.count) values, the optimizer has \(x.v.count)") }
            guard m.allSatisfy(\.isFinite), v.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw fail("opt.\(g): non-finite or negative moments") }
            m.withUnsafeBufferPointer { x.m.ptr.update(from: $0.baseAddress!, count: x.m.count) }
            if x.v.count > 0 { v.withUnsafeBufferPointer { x.v.ptr.update(from: $0.baseAddress!, count: x.v.count) } }
        }
        self.steps = steps
    }
}
