import Foundation

extension ViTConfig {
    /// A freshly initialized backbone (MAE's recipe): Xavier-uniform linear and patch weights,
    /// zero biases, unit LayerNorms, N(0, 0.02²) class and register tokens, fixed 2-D sin-cos
    /// position embedding (zero rows for the class and register tokens).
    public func initBackbone(seed: UInt64) -> ParameterSet {
        var rng = RNG(seed: seed)
        let set = ParameterSet(backboneLayout)
        for spec in set.layout.specs {
            let p = set.ptr(spec.name)
            if spec.name.hasSuffix("norm1.weight") || spec.name.hasSuffix("norm2.weight") || spec.name == "norm.weight" || spec.name == "norm_pre.weight" {
                p.update(repeating: 1, count: spec.count)
            } else if spec.name.hasSuffix(".weight") {
                let fanOut = spec.shape[0], fanIn = spec.count / fanOut
                xavierUniform(p, count: spec.count, fanIn: fanIn, fanOut: fanOut, rng: &rng)
            }
        }
        for name in ["cls_token", "reg_token"] where set.layout.spec(name) != nil {
            let p = set.ptr(name)
            for i in 0..<set.layout.spec(name)!.count { p[i] = 0.02 * rng.normal() }
        }
        set.set("pos_embed", sinCosPositionEmbedding(dim: dim, grid: gridSize, prefixRows: posEmbedRows - numPatches))
        return set
    }
}

/// Uniform on ±sqrt(6 / (fanIn + fanOut)).
public func xavierUniform(_ p: FPtr, count: Int, fanIn: Int, fanOut: Int, rng: inout RNG) {
    let v = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
    for i in 0..<count { p[i] = rng.uniform(-v, v) }
}

/// MAE's fixed 2-D sin-cos embedding, [prefixRows + grid², dim]; the prefix (class) rows are zero.
public func sinCosPositionEmbedding(dim: Int, grid: Int, prefixRows: Int = 1) -> [Float] {
    precondition(dim % 4 == 0, "sin-cos position embedding needs dim divisible by 4")
    var out = [Float](repeating: 0, count: (prefixRows + grid * grid) * dim)
    let quarter = dim / 4
    for gy in 0..<grid {
        for gx in 0..<grid {
            let row = prefixRows + gy * grid + gx
            // first half encodes the x (width) coordinate, second half y, as in MAE's code
            for (half, coord) in [(0, gx), (1, gy)] {
                for i in 0..<quarter {
                    let omega = 1 / pow(10000, Double(i) / Double(quarter))
                    let a = Double(coord) * omega
                    out[row * dim + half * 2 * quarter + i] = Float(sin(a))
                    out[row * dim + half * 2 * quarter + quarter + i] = Float(cos(a))
                }
            }
        }
    }
    return out
}
