/// Reduces a curve to at most `buckets` columns for drawing, keeping each bucket's minimum and
/// maximum (so spikes stay visible) rather than sampling points at random.
public enum Downsample {
    public struct Bucket: Equatable, Sendable {
        public var x: Double, min: Double, max: Double, last: Double
    }

    /// Buckets of equal width over [x0, x1]; non-finite values are ignored; empty buckets omitted.
    public static func minMax(xs: [Double], ys: [Double], buckets: Int, x0: Double, x1: Double) -> [Bucket] {
        guard buckets > 0, x1 > x0 else {
            guard let i = ys.lastIndex(where: \.isFinite) else { return [] }
            let v = ys.filter(\.isFinite)
            return [Bucket(x: xs[i], min: v.min()!, max: v.max()!, last: ys[i])]
        }
        var out = [Bucket?](repeating: nil, count: buckets)
        let w = (x1 - x0) / Double(buckets)
        for (x, y) in zip(xs, ys) where y.isFinite && x >= x0 && x <= x1 {
            let b = min(buckets - 1, Int((x - x0) / w))
            if var cur = out[b] {
                cur.min = Swift.min(cur.min, y); cur.max = Swift.max(cur.max, y); cur.last = y; cur.x = x
                out[b] = cur
            } else {
                out[b] = Bucket(x: x, min: y, max: y, last: y)
            }
        }
        return out.compactMap { $0 }
    }
}
