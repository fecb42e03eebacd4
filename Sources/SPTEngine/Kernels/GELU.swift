// Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), elementwise over N values, eight at a time.

public func geluForward(_ out: FPtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        forEachFloat8(range) { i, n in
            let x = load8(inp, i, n)
            store8(0.5 * x * (1 + verf(x * 0.70710678118654752)), out, i, n)
        }
    }
}

/// dinp += dout · GELU'(inp), GELU'(x) = Φ(x) + x·φ(x); dinp = … when `accumulate` is false.
public func geluBackward(dinp: FPtr, _ dout: FPtr, _ inp: FPtr, N: Int, accumulate: Bool = true) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        forEachFloat8(range) { i, n in
            let x = load8(inp, i, n)
            let cdf = 0.5 * (1 + verf(x * 0.70710678118654752))
            let pdf = vexp(-0.5 * x * x) * 0.39894228040143268
            let g = load8(dout, i, n) * (cdf + x * pdf)
            store8(accumulate ? load8(dinp, i, n) + g : g, dinp, i, n)
        }
    }
}
