import SPTRuns

/// A curve that grows while it is drawn. It keeps the raw points and, for drawing, a summary
/// of at most `capacity` buckets of consecutive points (min, max and last of the EMA-smoothed
/// value): when the buckets fill up, neighbours merge pairwise. A frame therefore costs the
/// same at step 100 and at step 10⁶, and changing the smoothing weight rebuilds it once.
public struct Trace: Sendable {
    public struct Bucket: Equatable, Sendable {
        public var count: Int
        /// Range of the smoothed finite values (+∞/−∞ when there are none).
        public var min: Double, max: Double
        /// The bucket's last point, its value smoothed.
        public var last: SeriesPoint
    }

    public static let capacity = 1024
    public private(set) var points: [SeriesPoint] = []
    public private(set) var buckets: [Bucket] = []
    public private(set) var weight: Double
    private var pointsPerBucket = 1
    private var ema: Smoothing.EMA

    public init(weight: Double = 0) { self.weight = weight; ema = Smoothing.EMA(weight: weight) }

    public var last: SeriesPoint? { points.last }
    public var isEmpty: Bool { points.isEmpty }

    public mutating func append(_ p: SeriesPoint) {
        points.append(p)
        summarize(p)
    }

    /// Changes the EMA weight of the drawn summary (raw points are kept as they came).
    public mutating func smooth(weight w: Double) {
        guard w != weight else { return }
        weight = w; ema = Smoothing.EMA(weight: w); buckets = []; pointsPerBucket = 1
        for p in points { summarize(p) }
    }

    private mutating func summarize(_ p: SeriesPoint) {
        var s = p
        s.value = ema.next(p.value)
        let lo = s.value.isFinite ? s.value : .infinity, hi = s.value.isFinite ? s.value : -.infinity
        if var b = buckets.last, b.count < pointsPerBucket {
            b.count += 1; b.min = Swift.min(b.min, lo); b.max = Swift.max(b.max, hi); b.last = s
            buckets[buckets.count - 1] = b
            return
        }
        if buckets.count == Trace.capacity { halve() }
        buckets.append(Bucket(count: 1, min: lo, max: hi, last: s))
    }

    private mutating func halve() {
        buckets = Swift.stride(from: 0, to: buckets.count, by: 2).map { i in
            guard i + 1 < buckets.count else { return buckets[i] }
            let a = buckets[i], b = buckets[i + 1]
            return Bucket(count: a.count + b.count, min: Swift.min(a.min, b.min), max: Swift.max(a.max, b.max), last: b.last)
        }
        pointsPerBucket *= 2
    }
}
