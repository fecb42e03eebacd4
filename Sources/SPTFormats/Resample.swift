/// Separable resampling with Pillow's filters and support (which PyTorch's antialiased
/// `interpolate` shares): when shrinking, the filter widens by the scale, so every input pixel
/// counts. Used for images (timm's transforms resize with Pillow) and position embeddings (timm's
/// `resample_abs_pos_embed`: bicubic, antialiased). Values are channels-last, [height, width, C].
public enum Resample {
    public enum Filter: String, Sendable, Codable, CaseIterable {
        case bicubic, bilinear
        var support: Double { self == .bicubic ? 2 : 1 }
        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear: return max(0, 1 - x)
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    /// Input indices and normalized weights of each output position.
    static func taps(input: Int, output: Int, filter: Filter) -> [(first: Int, weights: [Double])] {
        let scale = Double(input) / Double(output), stretch = max(scale, 1), support = filter.support * stretch
        return (0..<output).map { i in
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), input)
            var w = (lo..<hi).map { filter.weight((Double($0) - center + 0.5) / stretch) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            return (lo, w)
        }
    }

    /// Resizes [h, w, C] to [toH, toW, C], horizontally first, as Pillow does. `bytes` rounds and
    /// clamps each pass to 0…255, as Pillow does for 8-bit images.
    public static func resize(_ src: [Float], height h: Int, width w: Int, channels C: Int, toHeight th: Int, toWidth tw: Int,
                              filter: Filter, bytes: Bool = false) -> [Float] {
        func finish(_ v: Double) -> Float { bytes ? Float(min(255, max(0, (v + 0.5).rounded(.down)))) : Float(v) }
        var mid = src
        if tw != w {
            let taps = taps(input: w, output: tw, filter: filter)
            mid = [Float](repeating: 0, count: h * tw * C)
            for y in 0..<h {
                for (x, t) in taps.enumerated() {
                    for c in 0..<C {
                        var acc = 0.0
                        for (k, wk) in t.weights.enumerated() { acc += wk * Double(src[(y * w + t.first + k) * C + c]) }
                        mid[(y * tw + x) * C + c] = finish(acc)
                    }
                }
            }
        }
        guard th != h else { return mid }
        let taps = taps(input: h, output: th, filter: filter)
        var out = [Float](repeating: 0, count: th * tw * C)
        for (y, t) in taps.enumerated() {
            for x in 0..<tw {
                for c in 0..<C {
                    var acc = 0.0
                    for (k, wk) in t.weights.enumerated() { acc += wk * Double(mid[((t.first + k) * tw + x) * C + c]) }
                    out[(y * tw + x) * C + c] = finish(acc)
                }
            }
        }
        return out
    }
}
