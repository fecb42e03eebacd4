import Foundation

/// Where a figure's parts go, in pixels; both renderers share it so SVG and PNG look alike.
struct FigureLayout {
    static let left = 64.0, right = 16.0, top = 34.0, bottom = 44.0, titleHeight = 30.0, legendRow = 20.0

    let figure: Figure
    let columns: Int, rows: Int
    let legend: [(name: String, color: RGB, dashed: Bool)]
    /// Each legend entry's top-left corner: entries flow left to right, wrapping.
    let legendOrigins: [(x: Double, y: Double)]
    let legendRows: Int
    let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    /// One panel gets the room of a figure; several share rows of three.
    let panelWidth: Double, panelHeight: Double

    init(_ f: Figure) {
        figure = f
        columns = min(3, max(1, f.panels.count))
        rows = (f.panels.count + columns - 1) / columns
        var seen = Set<String>(), items: [(name: String, color: RGB, dashed: Bool)] = []
        for p in f.panels { for s in p.series where seen.insert(s.name).inserted { items.append((s.name, s.color, s.dashed)) } }
        legend = items
        (panelWidth, panelHeight) = f.panels.count == 1 ? (640, 360) : (420, 280)
        let width = Double(columns) * panelWidth, top = Self.titleHeight + Double(rows) * panelHeight
        var origins: [(x: Double, y: Double)] = [], x = Self.left, row = 0
        for item in items {
            let w = 24 + Double(GlyphAtlas.small.width(item.name)) + 18
            if x + w > width && x > Self.left { x = Self.left; row += 1 }
            origins.append((x, top + Double(row) * Self.legendRow))
            x += w
        }
        legendOrigins = origins
        legendRows = items.isEmpty ? 0 : row + 1
        let r = f.ranges
        xRange = f.xLog ? max(r.x.lowerBound, 1e-12)...max(r.x.upperBound, 1e-12) : r.x
        yRange = r.y
    }

    var width: Double { Double(columns) * panelWidth }
    var height: Double { Self.titleHeight + Double(rows) * panelHeight + Double(legendRows) * Self.legendRow + 8 }

    /// The plot area of panel `i`.
    func plot(_ i: Int) -> (x: Double, y: Double, w: Double, h: Double) {
        let c = Double(i % columns), r = Double(i / columns)
        return (c * panelWidth + Self.left, Self.titleHeight + r * panelHeight + Self.top,
                panelWidth - Self.left - Self.right, panelHeight - Self.top - Self.bottom)
    }

    func px(_ x: Double, _ a: (x: Double, y: Double, w: Double, h: Double)) -> Double {
        let (lo, hi) = figure.xLog ? (log10(xRange.lowerBound), log10(xRange.upperBound)) : (xRange.lowerBound, xRange.upperBound)
        let v = figure.xLog ? log10(max(x, 1e-300)) : x
        return a.x + (hi == lo ? 0.5 : (v - lo) / (hi - lo)) * a.w
    }

    func py(_ y: Double, _ a: (x: Double, y: Double, w: Double, h: Double)) -> Double {
        let (lo, hi) = figure.yLog ? (log10(yRange.lowerBound), log10(yRange.upperBound)) : (yRange.lowerBound, yRange.upperBound)
        let v = figure.yLog ? log10(max(y, yRange.lowerBound)) : y
        return a.y + a.h - (hi == lo ? 0.5 : (v - lo) / (hi - lo)) * a.h
    }

    var xTicks: [Double] { figure.xLog ? Ticks.log(xRange) : Ticks.linear(xRange) }
    var yTicks: [Double] { figure.yLog ? Ticks.log(yRange) : Ticks.linear(yRange) }

    func legendOrigin(_ k: Int) -> (x: Double, y: Double) { legendOrigins[k] }
}
