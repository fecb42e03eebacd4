/// Reduces a curve to at most `buckets` columns for drawing, keeping each bucket's minimum and
/// maximum (so spikes stay visible) rather than sampling points at random.
public enum Downsample {
    /// A run of points summarized: drawn at `x` (its last point's), spanning min…max, ending at `last`.
    public struct Bucket: Equatable, Sendable {
        public var x: Double, min: Double, max: Double, last: Double
        public init(x: Double, min: Double, max: Double, last: Double) { self.x = x; self.min = min; self.max = max; self.last = last }
        /// A single point.
        public init(x: Double, y: Double) { self.init(x: x, min: y, max: y, last: y) }
    }

    /// Merges `points` (single points or already-summarized runs, in x order) into buckets of
    /// equal width over [x0, x1]; ranges that are not finite are ignored; empty buckets omitted.
    public static func minMax(_ points: [Bucket], buckets: Int, x0: Double, x1: Double) -> [Bucket] {
        let n = buckets > 0 && x1 > x0 ? buckets : 1
        var out = [Bucket?](repeating: nil, count: n)
        let w = (x1 - x0) / Double(n)
        for p in points where p.min.isFinite && p.max.isFinite && p.x >= x0 && p.x <= x1 {
            let b = n == 1 ? 0 : Swift.min(n - 1, Int((p.x - x0) / w))
            if var cur = out[b] {
                cur.min = Swift.min(cur.min, p.min); cur.max = Swift.max(cur.max, p.max); cur.last = p.last; cur.x = p.x
                out[b] = cur
            } else {
                out[b] = p
            }
        }
        return out.compactMap { $0 }
    }
}
