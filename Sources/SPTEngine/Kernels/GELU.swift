import CBF16

// Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), elementwise over N values, eight at a time.

@inline(__always)
func gelu8(_ x: Float8) -> Float8 { 0.5 * x * (1 + verf(x * 0.70710678118654752)) }

@inline(__always)
func geluGradient8(_ dout: Float8, _ x: Float8) -> Float8 {
    let cdf = 0.5 * (1 + verf(x * 0.70710678118654752))
    let pdf = vexp(-0.5 * x * x) * 0.39894228040143268
    return dout * (cdf + x * pdf)
}

public func geluForward(_ out: FPtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        forEachFloat8(range) { i, n in store8(gelu8(load8(inp, i, n)), out, i, n) }
    }
}

/// GELU written straight to bf16 (`--precision bf16`: its output only feeds fc2's product,
/// which rounds it anyway): the fp32 result never reaches memory.
public func geluForward(_ out16: BF16MutablePtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        roundedTiles(range, into: out16) { tile, start, n in
            forEachFloat8(0..<n) { i, m in store8(gelu8(load8(inp + start, i, m)), tile, i, m) }
        }
    }
}

/// dinp += dout · GELU'(inp), GELU'(x) = Φ(x) + x·φ(x); dinp = … when `accumulate` is false.
public func geluBackward(dinp: FPtr, _ dout: FPtr, _ inp: FPtr, N: Int, accumulate: Bool = true) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        forEachFloat8(range) { i, n in
            let g = geluGradient8(load8(dout, i, n), load8(inp, i, n))
            store8(accumulate ? load8(dinp, i, n) + g : g, dinp, i, n)
        }
    }
}

/// dinp = dout · GELU'(inp) written straight to bf16: fc1's backward product rounds it anyway.
public func geluBackward(dinp16: BF16MutablePtr, _ dout: FPtr, _ inp: FPtr, N: Int) {
    Parallel.chunks(N, minChunk: 4096) { _, range in
        roundedTiles(range, into: dinp16) { tile, start, n in
            forEachFloat8(0..<n) { i, m in store8(geluGradient8(load8(dout + start, i, m), load8(inp + start, i, m)), tile, i, m) }
        }
    }
}
