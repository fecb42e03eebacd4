/// Per-channel normalization a backbone was trained with (recorded in its metadata).
public struct Normalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }
    /// Why these statistics cannot normalize images of `channels` channels, or nil when they can.
    public func problem(channels: Int) -> String? {
        guard mean.count == channels, std.count == channels else {
            return "\(mean.count) means and \(std.count) standard deviations for \(channels) channel(s)"
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            return "means must be finite and standard deviations finite and positive (mean \(mean), std \(std))"
        }
        // What a pixel of 0 or 1 becomes: real statistics give |v| < 10; far beyond, the
        // model's activations overflow to NaN (mean 3e38 or std 1e-38 did, silently).
        for c in 0..<channels {
            for x: Float in [0, 1] {
                let v = (x - mean[c]) / std[c]
                guard v.isFinite, abs(v) <= Self.maxNormalized else {
                    return "channel \(c) normalizes a pixel value of \(Int(x)) to \(v), beyond ±\(Int(Self.maxNormalized)) (mean \(mean[c]), std \(std[c]))"
                }
            }
        }
        return nil
    }

    /// The largest normalized pixel accepted.
    public static let maxNormalized: Float = 10_000

    /// Fashion-MNIST training split statistics.
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
}

/// Turns data-set samples into a model's input batch: channel adaptation (gray ↔ RGB),
/// bilinear resize to the model's size, optional augmentation, normalization.
public struct Batcher: Sendable {
    public let channels: Int
    public let size: Int
    public let norm: Normalization
    /// Random horizontal flip and a random shift of up to `shift` pixels (zero padded).
    public var flip = false
    public var shift = 0

    public init(channels: Int, size: Int, norm: Normalization) {
        precondition(norm.mean.count == channels && norm.std.count == channels, "normalization must have one value per channel")
        self.channels = channels; self.size = size; self.norm = norm
    }

    public var augments: Bool { flip || shift > 0 }

    /// Writes samples `indices` of `data` into `out` ([indices.count, C, size, size]).
    public func fill(_ out: FPtr, from data: Dataset, indices: ArraySlice<Int>, rng: inout RNG) {
        let S = size, plane = S * S
        var tmp = [Float](repeating: 0, count: channels * plane)
        for (n, idx) in indices.enumerated() {
            let flipIt = flip && rng.int(2) == 1
            let dx = shift > 0 ? rng.int(2 * shift + 1) - shift : 0
            let dy = shift > 0 ? rng.int(2 * shift + 1) - shift : 0
            data.images.withUnsafeBufferPointer { src in
                let img = src.baseAddress! + idx * data.imageSize
                for c in 0..<channels {
                    // gray → RGB replicates; RGB → gray averages; equal counts map 1:1.
                    let srcPlanes: [Int] = data.channels == channels ? [c] : (data.channels == 1 ? [0] : Array(0..<data.channels))
                    for y in 0..<S {
                        for x in 0..<S {
                            var v: Float = 0
                            for sp in srcPlanes {
                                v += sample(img + sp * data.height * data.width, h: data.height, w: data.width, y: y, x: x)
                            }
                            tmp[c * plane + y * S + x] = v / Float(srcPlanes.count)
                        }
                    }
                }
            }
            let dst = out + n * channels * plane
            for c in 0..<channels {
                let m = norm.mean[c], inv = 1 / norm.std[c]
                for y in 0..<S {
                    for x in 0..<S {
                        let sx0 = x - dx, sy = y - dy
                        let sx = flipIt ? S - 1 - sx0 : sx0
                        let v: Float = (sx >= 0 && sx < S && sy >= 0 && sy < S) ? tmp[c * plane + sy * S + sx] : 0
                        dst[c * plane + y * S + x] = (v - m) * inv
                    }
                }
            }
        }
    }

    /// Bilinear sample of pixel (y, x) of an S×S output grid from an h×w plane (align-corners off).
    @inline(__always)
    private func sample(_ p: UnsafePointer<Float>, h: Int, w: Int, y: Int, x: Int) -> Float {
        if h == size && w == size { return p[y * w + x] }
        let fy = max(0, (Float(y) + 0.5) * Float(h) / Float(size) - 0.5)
        let fx = max(0, (Float(x) + 0.5) * Float(w) / Float(size) - 0.5)
        let y0 = min(Int(fy), h - 1), x0 = min(Int(fx), w - 1)
        let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
        let ty = fy - Float(y0), tx = fx - Float(x0)
        let top = p[y0 * w + x0] * (1 - tx) + p[y0 * w + x1] * tx
        let bot = p[y1 * w + x0] * (1 - tx) + p[y1 * w + x1] * tx
        return top * (1 - ty) + bot * ty
    }
}
