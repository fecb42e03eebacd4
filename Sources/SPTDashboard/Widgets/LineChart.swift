import Foundation
import SPTRuns

/// One curve of a chart: points, or runs of points already summarized as min/max buckets.
public struct ChartSeries: Sendable {
    public var name: String
    public var points: [Downsample.Bucket]
    public var role: ColorRole
    public init(name: String, points: [Downsample.Bucket], role: ColorRole) {
        self.name = name; self.points = points; self.role = role
    }
    public init(name: String, xs: [Double], ys: [Double], role: ColorRole) {
        self.init(name: name, points: zip(xs, ys).map { Downsample.Bucket(x: $0, y: $1) }, role: role)
    }
}

/// A line chart drawn with braille dots (2×4 per cell) with a y axis, x axis and legend.
/// Each series is reduced to min/max per pixel column before drawing, so the cost and memory
/// are bounded by the chart's width, not by the run's length.
public struct LineChart: Sendable {
    public var title: String
    public var series: [ChartSeries]
    public var logY = false
    public var xLabel = "step"
    /// Fraction of the x range shown, ending at the latest x (1 = everything).
    public var zoom = 1.0
    public var glyphs = Glyphs(ascii: false)

    public init(title: String, series: [ChartSeries]) { self.title = title; self.series = series }

    static let labelWidth = 9

    public func draw(into buf: inout CellBuffer, x: Int, y: Int, width w: Int, height h: Int) {
        guard w > LineChart.labelWidth + 4, h >= 4 else { return }
        // title and legend
        buf.put(title, x: x, y: y, role: .title, attrs: .bold)
        var lx = x + w
        for s in series.reversed() {
            let label = " \(glyphs.legendMark) \(s.name)"
            lx -= label.unicodeScalars.count
            if lx <= x + title.unicodeScalars.count + 1 { break }
            buf.put(glyphs.legendMark, x: lx + 1, y: y, role: s.role)
            buf.put(" " + s.name, x: lx + 2, y: y, role: .text)
        }
        let px = x + LineChart.labelWidth, pw = w - LineChart.labelWidth, ph = h - 3, top = y + 1
        let tf: (Double) -> Double = logY ? { $0 > 0 ? log10($0) : .nan } : { $0 }
        // ranges over what is visible
        let ends = series.flatMap { [$0.points.first?.x, $0.points.last?.x].compactMap { $0 } }
        guard let xmin0 = ends.min(), let xmax = ends.max() else {
            buf.put("waiting for data" + glyphs.ellipsis, x: px + 2, y: top + ph / 2, role: .dim)
            drawAxes(&buf, px: px, top: top, pw: pw, ph: ph)
            return
        }
        let xmin = zoom >= 1 ? xmin0 : xmax - (xmax - xmin0) * zoom
        var ymin = Double.infinity, ymax = -Double.infinity
        // log y: a bucket reaching down to 0 or below is drawn from its smallest positive end
        let curves = series.map { s in
            logY ? s.points.map { b in
                let hi = tf(b.max), lo = tf(b.min)
                return Downsample.Bucket(x: b.x, min: lo.isFinite ? lo : hi, max: hi, last: tf(b.last).isFinite ? tf(b.last) : hi)
            } : s.points
        }
        for c in curves {
            for b in c where b.x >= xmin && b.min.isFinite && b.max.isFinite { ymin = min(ymin, b.min); ymax = max(ymax, b.max) }
        }
        if !ymin.isFinite { ymin = 0; ymax = 1 }
        if ymax - ymin < 1e-12 { let c = ymin; ymin = c - max(abs(c) * 0.05, 1e-9); ymax = c + max(abs(c) * 0.05, 1e-9) }
        let dotsW = pw * 2, dotsH = ph * 4
        var cellBits = [UInt8](repeating: 0, count: pw * ph)
        var cellRole = [ColorRole?](repeating: nil, count: pw * ph)
        func plot(_ dx: Int, _ dy: Int, _ role: ColorRole) {
            guard dx >= 0, dx < dotsW, dy >= 0, dy < dotsH else { return }
            let cx = dx / 2, cy = dy / 4, bx = dx % 2, by = dy % 4
            let bit: UInt8 = by == 3 ? (bx == 0 ? 0x40 : 0x80) : UInt8(1 << (by + 3 * bx))
            cellBits[cy * pw + cx] |= bit
            cellRole[cy * pw + cx] = role
        }
        func row(_ v: Double) -> Int { Int(((ymax - v) / (ymax - ymin) * Double(dotsH - 1)).rounded()) }
        for (s, c) in zip(series, curves) {
            let buckets = Downsample.minMax(c, buckets: dotsW, x0: xmin, x1: xmax)
            var prev: (col: Int, row: Int)?
            for b in buckets {
                let col = xmax > xmin ? Int(((b.x - xmin) / (xmax - xmin) * Double(dotsW - 1)).rounded()) : dotsW - 1
                let lo = row(b.max), hi = row(b.min)
                for r in lo...hi { plot(col, r, s.role) }
                if let p = prev { line(from: p, to: (col, min(max(p.row, lo), hi)), s.role, plot) }
                prev = (col, row(b.last))
            }
        }
        for cy in 0..<ph {
            for cx in 0..<pw where cellBits[cy * pw + cx] != 0 {
                let ch: Unicode.Scalar = glyphs.ascii ? "*" : Unicode.Scalar(0x2800 + UInt32(cellBits[cy * pw + cx]))!
                buf[px + cx, top + cy] = Cell(ch, role: cellRole[cy * pw + cx]!)
            }
        }
        drawAxes(&buf, px: px, top: top, pw: pw, ph: ph)
        // y labels: top, middle, bottom
        for (i, frac) in [1.0, 0.5, 0.0].enumerated() {
            let v = ymin + (ymax - ymin) * frac
            let label = LineChart.format(logY ? pow(10, v) : v).padding(toLength: LineChart.labelWidth - 1, withPad: " ", startingAt: 0)
            let ry = [top, top + (ph - 1) / 2, top + ph - 1][i]
            buf.put(String(label.prefix(LineChart.labelWidth - 1)), x: x, y: ry, role: .axis)
        }
        // x labels
        let left = LineChart.format(xmin), right = LineChart.format(xmax)
        buf.put(left, x: px, y: top + ph + 1, role: .axis)
        let mid = "\(xLabel)\(logY ? " · log y" : "")\(zoom < 1 ? String(format: " · zoom %.0f%%", zoom * 100) : "")"
        buf.put(mid, x: px + (pw - mid.unicodeScalars.count) / 2, y: top + ph + 1, role: .dim)
        buf.put(right, x: px + pw - right.unicodeScalars.count, y: top + ph + 1, role: .axis)
    }

    /// Dots along the segment between two dot positions (Bresenham).
    private func line(from a: (col: Int, row: Int), to b: (col: Int, row: Int), _ role: ColorRole, _ plot: (Int, Int, ColorRole) -> Void) {
        var x = a.col, y = a.row
        let dx = abs(b.col - x), dy = -abs(b.row - y), sx = x < b.col ? 1 : -1, sy = y < b.row ? 1 : -1
        var err = dx + dy
        while true {
            plot(x, y, role)
            if x == b.col && y == b.row { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    private func drawAxes(_ buf: inout CellBuffer, px: Int, top: Int, pw: Int, ph: Int) {
        for r in 0..<ph { buf.put(glyphs.vertical, x: px - 1, y: top + r, role: .axis) }
        buf.put(glyphs.corner, x: px - 1, y: top + ph, role: .axis)
        buf.put(String(repeating: glyphs.horizontal, count: pw), x: px, y: top + ph, role: .axis)
    }

    /// Compact number formatting for axes and tables: 3 significant digits, scientific when tiny or huge.
    public static func format(_ v: Double) -> String {
        if !v.isFinite { return v.isNaN ? "—" : (v > 0 ? "∞" : "-∞") }
        let a = abs(v)
        if a == 0 { return "0" }
        if a < 1e-2 || a >= 1e5 { return String(format: "%.2e", v) }
        if a >= 100 || (v == v.rounded() && a >= 1) { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.3f", v)
    }
}
