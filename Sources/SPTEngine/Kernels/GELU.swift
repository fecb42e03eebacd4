import Foundation

// Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), elementwise over N values.

public func geluForward(_ out: FPtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        for i in range {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + erff(x * 0.70710678118654752))
        }
    }
}

/// dinp += dout · GELU'(inp), GELU'(x) = Φ(x) + x·φ(x).
public func geluBackward(dinp: FPtr, _ dout: FPtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        for i in range {
            let x = inp[i]
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            let pdf = expf(-0.5 * x * x) * 0.39894228040143268
            dinp[i] += dout[i] * (cdf + x * pdf)
        }
    }
}
