import Foundation

/// Curve smoothing as the dashboard and CSV export apply it.
public enum Smoothing {
    /// TensorBoard's debiased exponential moving average. `weight` is clamped to [0, 0.999].
    /// NaN/Inf values pass through unchanged without advancing the debias counter; a constant
    /// series is returned unchanged.
    public static func ema(_ ys: [Double], weight: Double) -> [Double] {
        let finite = ys.filter(\.isFinite)
        if let first = finite.first, finite.allSatisfy({ $0 == first }) { return ys }
        var e = EMA(weight: weight)
        return ys.map { e.next($0) }
    }

    /// The same EMA one value at a time, for curves that grow while they are drawn.
    public struct EMA: Sendable {
        public let weight: Double
        private var last = 0.0, wn = 1.0  // wn = weight^n, the debias term

        public init(weight: Double) { self.weight = min(max(weight, 0), 0.999) }

        public mutating func next(_ y: Double) -> Double {
            guard y.isFinite else { return y }
            last = last * weight + (1 - weight) * y
            wn *= weight
            return last / (1 - wn)
        }
    }
}
