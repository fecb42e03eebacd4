import SPTEngine

/// Central-finite-difference gradient check of a kernel. The scalar loss is Σ r ⊙ output for a
/// fixed random r; `backward(dout)` must accumulate into `grads` (one per checked input).
/// Returns the worst violation of |analytic − numeric| ≤ atol + rtol·|numeric| (≤ 1 passes),
/// after also checking that a second backward doubles the gradients.
func gradCheck(inputs: [Buffer], grads: [Buffer], outputCount: Int, eps: Float = 1e-2,
               atol: Float = 2e-3, rtol: Float = 2e-2, seed: UInt64 = 7,
               forward: () -> FPtr, backward: (FPtr) -> Void) -> (worst: Float, detail: String) {
    var rng = RNG(seed: seed)
    let r = Buffer([outputCount], (0..<outputCount).map { _ in rng.normal() })
    func loss() -> Double {
        let out = forward()
        var s = 0.0
        for i in 0..<outputCount { s += Double(out[i]) * Double(r[i]) }
        return s
    }
    _ = forward()
    grads.forEach { $0.zero() }
    backward(r.ptr)
    let once = grads.map(\.array)
    backward(r.ptr)
    var worst: Float = 0, detail = ""
    for (g, first) in zip(grads, once) {
        for i in 0..<g.count where abs(g[i] - 2 * first[i]) > 1e-5 + 1e-4 * abs(first[i]) {
            return (.infinity, "second backward did not accumulate at \(i): \(first[i]) then \(g[i])")
        }
    }
    for (k, x) in inputs.enumerated() {
        for i in 0..<x.count {
            let orig = x[i]
            x[i] = orig + eps; let lp = loss()
            x[i] = orig - eps; let lm = loss()
            x[i] = orig
            let numeric = Float((lp - lm) / Double(2 * eps))
            let v = abs(once[k][i] - numeric) / (atol + rtol * abs(numeric))
            if v > worst { worst = v; detail = "input \(k)[\(i)]: analytic \(once[k][i]) numeric \(numeric)" }
        }
    }
    return (worst, detail)
}

func randomBuffer(_ shape: [Int], _ rng: inout RNG, scale: Float = 1) -> Buffer {
    let n = shape.reduce(1, *)
    return Buffer(shape, (0..<n).map { _ in scale * rng.normal() })
}
