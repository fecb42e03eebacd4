import Foundation

/// `spt compare --tune`'s search: every (learning rate, weight decay) of the grid is scored on
/// val; when the best rate sits on the grid's lowest or highest rate, the grid grows by a factor
/// of about 3 on that side (a rate near the 1–3–10 ladder snaps to it: 3e-2 → 1e-1 → 3e-1) until
/// the pick has a tried rate on both sides, ties with another rate (a plateau, where growing the
/// grid would not change the pick), or `maxExtensions` rates were added. Ties go to the first
/// point in grid order (the smaller rate).
public struct LRSearch {
    public struct Point: Codable, Equatable, Sendable {
        public var lr: Float
        public var weightDecay: Float
        /// Val accuracy, the mean over the tune seeds; nil when a seed's run diverged.
        public var accuracy: Double?
        /// Each tune seed's val accuracy (nil: diverged), in seed order.
        public var seeds: [Double?]
        public init(lr: Float, weightDecay: Float, seeds: [Double?]) {
            self.lr = lr; self.weightDecay = weightDecay; self.seeds = seeds
            let scored = seeds.compactMap { $0 }
            accuracy = scored.count == seeds.count && !scored.isEmpty ? scored.reduce(0, +) / Double(scored.count) : nil
        }
    }

    public struct Result: Codable, Equatable, Sendable {
        public var best: Point
        /// Every point scored, in the order it was run.
        public var points: [Point]
        /// Rates added beyond the given grid, in order.
        public var extensions: [Float]
        /// The pick has a tried rate below and above it (false: the bound stopped the search).
        public var bracketed: Bool
    }

    public var lrGrid: [Float]
    public var wdGrid: [Float]
    public var factor: Float = 3
    public var maxExtensions = 4

    public init(lrGrid: [Float], wdGrid: [Float]) { self.lrGrid = lrGrid; self.wdGrid = wdGrid }

    /// Runs the search; `score(lr, wd)` trains one tune run per tune seed and returns their val
    /// accuracies (nil: diverged); a point scores their mean. Nil when every point diverged.
    public func run(_ score: (Float, Float) throws -> [Double?]) rethrows -> Result? {
        var points: [Point] = [], extensions: [Float] = []
        var rates = Array(Set(lrGrid)).sorted()
        func scoreRate(_ lr: Float) throws {
            for wd in wdGrid { points.append(Point(lr: lr, weightDecay: wd, seeds: try score(lr, wd))) }
        }
        for lr in rates { try scoreRate(lr) }
        while true {
            guard let best = Self.best(points) else { return nil }
            let low = best.lr == rates.first, high = best.lr == rates.last
            let tied = points.contains { $0.lr != best.lr && $0.accuracy == best.accuracy }
            if !(low || high) || tied || extensions.count >= maxExtensions {
                return Result(best: best, points: points, extensions: extensions, bracketed: !(low || high))
            }
            // The side the pick sits on (upwards first when the grid has one rate).
            let next = Self.snap(high ? best.lr * factor : best.lr / factor)
            extensions.append(next)
            rates = (rates + [next]).sorted()
            try scoreRate(next)
        }
    }

    /// The highest accuracy; ties to the smaller rate, then to the earlier weight decay of the grid.
    static func best(_ points: [Point]) -> Point? {
        var best: Point?
        let order = points.indices.sorted { (points[$0].lr, $0) < (points[$1].lr, $1) }
        for p in order.map({ points[$0] }) {
            guard let a = p.accuracy else { continue }
            if a > best?.accuracy ?? -1 { best = p }
        }
        return best
    }

    /// `x` moved to the nearest value of the 1–3–10 ladder when within 15% of it.
    static func snap(_ x: Float) -> Float {
        let e = floor(log10(Double(x)))
        for m in [1.0, 3.0, 10.0] {
            let v = m * pow(10, e)
            if abs(v - Double(x)) <= 0.15 * v { return Float(v) }
        }
        return x
    }
}
