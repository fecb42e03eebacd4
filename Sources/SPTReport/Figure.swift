import Foundation

/// A figure of the report: panels side by side, each with curves (a line, an optional band such
/// as a min–max over seeds, optional error bars and markers) on shared axis settings. Renderers
/// (`SVG`, `Raster`) draw it; nothing here knows a file format.
public struct Figure: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var color: RGB
        public var points: [(x: Double, y: Double)]
        /// Per x: the band's low and high (drawn translucent under the line).
        public var band: [(x: Double, low: Double, high: Double)] = []
        /// Per point: ± this much (error bars).
        public var errors: [Double] = []
        public var markers = false
        public var dashed = false
        /// Points only, no line between them (a scatter such as the prompt map), of this radius.
        public var scatter = false
        public var radius = 3.0
        public init(name: String, color: RGB, points: [(x: Double, y: Double)]) { self.name = name; self.color = color; self.points = points }
    }

    public struct Panel: Sendable {
        public var title: String
        public var series: [Series]
        public init(title: String, series: [Series]) { self.title = title; self.series = series }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xLog = false
    /// Log y (values ≤ 0 sit on the axis' bottom), for quantities spanning decades such as NMI.
    public var yLog = false
    public var panels: [Panel]
    public var palette: Palette

    public init(title: String, xLabel: String, yLabel: String, panels: [Panel], palette: Palette) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.panels = panels; self.palette = palette
    }

    /// The data range over every panel (bands and error bars included), padded a little in y.
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        for p in panels {
            for s in p.series {
                for (i, q) in s.points.enumerated() where q.x.isFinite && q.y.isFinite {
                    xs.append(q.x); ys.append(q.y)
                    if i < s.errors.count, s.errors[i].isFinite { ys += [q.y - s.errors[i], q.y + s.errors[i]] }
                }
                for b in s.band where b.x.isFinite && b.low.isFinite && b.high.isFinite { xs.append(b.x); ys += [b.low, b.high] }
            }
        }
        if yLog { ys = ys.filter { $0 > 0 } }
        var x = (xs.min() ?? 0)...(xs.max() ?? 1), y = (ys.min() ?? 0)...(ys.max() ?? 1)
        // Log x: a margin so that the end points and their ticks are not on the frame.
        if xLog, x.lowerBound > 0 { x = (x.lowerBound / 1.2)...(x.upperBound * 1.2) }
        if yLog { return (x.lowerBound == x.upperBound ? x.lowerBound - 1...x.upperBound + 1 : x, (y.lowerBound / 1.2)...(y.upperBound * 1.2)) }
        let pad = (y.upperBound - y.lowerBound) * 0.05
        return (x.lowerBound == x.upperBound ? x.lowerBound - 1...x.upperBound + 1 : x,
                pad == 0 ? y.lowerBound - 1...y.upperBound + 1 : (y.lowerBound - pad)...(y.upperBound + pad))
    }
}

public struct RGB: Equatable, Sendable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }
    /// `self` mixed with `other` by `t` ∈ [0, 1].
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        func m(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
        return RGB(m(r, other.r), m(g, other.g), m(b, other.b))
    }
}

/// The colours a figure uses.
public struct Palette: Sendable {
    public var text, axis, grid, background: RGB
    public var series: [RGB]
    public init(text: RGB, axis: RGB, grid: RGB, background: RGB, series: [RGB]) {
        self.text = text; self.axis = axis; self.grid = grid; self.background = background; self.series = series
    }
    public func series(_ i: Int) -> RGB { series.isEmpty ? text : series[i % series.count] }
}

/// Axis ticks at round values.
public enum Ticks {
    /// About `count` ticks on [lo, hi] at 1, 2 or 5 × 10ᵏ steps.
    public static func linear(_ r: ClosedRange<Double>, count: Int = 5) -> [Double] {
        let span = r.upperBound - r.lowerBound
        guard span > 0, span.isFinite else { return [r.lowerBound] }
        let raw = span / Double(count), mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        // k · step, rounded to 12 digits (0.6, not 0.6000000000000001).
        var k = ceil(r.lowerBound / step), out: [Double] = []
        while k * step <= r.upperBound + step * 1e-9 { out.append(Double(String(format: "%.12g", k * step))!); k += 1 }
        return out
    }

    /// Powers of ten on [lo, hi] (both > 0), with 3 × 10ᵏ between when there are few.
    public static func log(_ r: ClosedRange<Double>) -> [Double] {
        guard r.lowerBound > 0 else { return linear(r) }
        let lo = Int(floor(log10(r.lowerBound))), hi = Int(ceil(log10(r.upperBound)))
        var out: [Double] = []
        for e in lo...hi { for m in (hi - lo <= 3 ? [1.0, 3] : [1.0]) { let v = m * pow(10, Double(e)); if r.contains(v) { out.append(v) } } }
        if out.count > 7 { out = out.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
        return out
    }

    /// A tick's label: short, no trailing zeros.
    public static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e4 || a < 1e-3 { return String(format: "%.0e", v) }
        var s = String(format: a >= 100 ? "%.0f" : a >= 1 ? "%.2f" : "%.4f", v)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}
