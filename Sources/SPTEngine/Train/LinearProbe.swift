import Foundation

/// The standard test of a frozen backbone: features (the head's input: pooled tokens after the
/// final LayerNorm) are computed once and standardized with the training split's per-dimension
/// mean and deviation (MAE's probe: a BatchNorm without affine before the head), then a
/// softmax-regression head is trained on them with AdamW and scored on the test split. Comparing against `random-tiny` shows what pretraining bought.
public enum LinearProbe {
    public struct Result: Sendable {
        public var trainAccuracy: Double
        public var testAccuracy: Double
        public var featureSeconds: Double
        public var trainImages: Int
        public var testImages: Int
    }

    /// Features of every image of `data`, [N, D].
    public static func features(_ backbone: Backbone, _ data: Dataset, pooling: Pooling, precision: Precision = .fp32) -> [Float] {
        Features.compute(backbone, data, pooling: pooling, precision: precision).features
    }

    public static func run(_ backbone: Backbone, train: Dataset, test: Dataset, pooling: Pooling? = nil,
                           epochs: Int = 30, lr: Float = 3e-3, batch: Int = 256, seed: UInt64 = 0, precision: Precision = .fp32) -> Result {
        let start = Date(), pool = pooling ?? backbone.pooling
        let batch = max(1, min(batch, train.count))  // fewer images than a batch: one batch of all
        var ftr = features(backbone, train, pooling: pool, precision: precision), fte = features(backbone, test, pooling: pool, precision: precision)
        let featureSeconds = Date().timeIntervalSince(start)
        let D = backbone.config.dim, K = train.classes
        standardize(&ftr, &fte, D: D)
        var l = ParameterLayout()
        l.add("head.weight", [K, D]); l.add("head.bias", [K])
        let head = ParameterSet(l), grads = ParameterSet(l)
        var rng = RNG(seed: seed)
        for i in 0..<(K * D) { head.values[i] = 0.01 * rng.normal() }
        let opt = Optimizer(OptimizerConfig(kind: .adamw, lr: lr, weightDecay: 1e-4), [(head, grads)])
        let x = Buffer([batch, D]), logits = Buffer([batch, K]), probs = Buffer([batch, K]), dlogits = Buffer([batch, K])
        let steps = max(1, train.count / batch), total = steps * epochs
        var oc = opt.config
        oc.warmupSteps = steps
        for e in 0..<epochs {
            var r = RNG(seed: seed &+ UInt64(e))
            let order = r.permutation(train.count)
            for s in 0..<steps {
                let idx = order[(s * batch)..<((s + 1) * batch)]
                for (row, i) in idx.enumerated() { ftr.withUnsafeBufferPointer { (x.ptr + row * D).update(from: $0.baseAddress! + i * D, count: D) } }
                let labels = idx.map { train.labels[$0] }
                matmulForward(logits.ptr, x.ptr, head.ptr("head.weight"), head.ptr("head.bias"), M: batch, K: D, N: K)
                _ = crossEntropyForward(probs.ptr, logits.ptr, labels, B: batch, K: K)
                grads.values.zero(); dlogits.zero()
                crossEntropyBackward(dlogits: dlogits.ptr, probs.ptr, labels, B: batch, K: K)
                matmulBackward(dinp: nil, dweight: grads.ptr("head.weight"), dbias: grads.ptr("head.bias"), dlogits.ptr, x.ptr,
                               head.ptr("head.weight"), M: batch, K: D, N: K)
                opt.step(lr: oc.learningRate(step: e * steps + s, totalSteps: total))
            }
        }
        func accuracy(_ f: [Float], _ labels: [Int32]) -> Double {
            let n = labels.count, out = Buffer([n, K])
            f.withUnsafeBufferPointer { matmulForward(out.ptr, UnsafeMutablePointer(mutating: $0.baseAddress!), head.ptr("head.weight"), head.ptr("head.bias"), M: n, K: D, N: K) }
            return Double(countCorrect(out.ptr, labels, K: K)) / Double(max(1, n))
        }
        return Result(trainAccuracy: accuracy(ftr, train.labels), testAccuracy: accuracy(fte, test.labels),
                      featureSeconds: featureSeconds, trainImages: train.count, testImages: test.count)
    }

    /// Per-dimension z-scores with the training features' statistics, applied to both splits.
    static func standardize(_ train: inout [Float], _ test: inout [Float], D: Int) {
        let n = train.count / D
        guard n > 1 else { return }
        var mean = [Double](repeating: 0, count: D), sq = [Double](repeating: 0, count: D)
        for i in 0..<n { for d in 0..<D { let v = Double(train[i * D + d]); mean[d] += v; sq[d] += v * v } }
        let scale = (0..<D).map { d -> Float in
            mean[d] /= Double(n)
            return Float(1 / max(1e-6, (sq[d] / Double(n) - mean[d] * mean[d]).squareRoot()))
        }
        for i in 0..<(train.count / D) { for d in 0..<D { train[i * D + d] = (train[i * D + d] - Float(mean[d])) * scale[d] } }
        for i in 0..<(test.count / D) { for d in 0..<D { test[i * D + d] = (test[i * D + d] - Float(mean[d])) * scale[d] } }
    }
}
