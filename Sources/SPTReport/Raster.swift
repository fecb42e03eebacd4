import Foundation
import SPTFormats

/// Printable-ASCII glyphs as 8-bit coverage (see GlyphAtlas.swift, generated).
struct GlyphAtlas {
    struct Glyph {
        let advance, x, y, width, height: Int
        let coverage: [UInt8]
        init(advance: Int, x: Int, y: Int, width: Int, height: Int, alpha: String) {
            self.advance = advance; self.x = x; self.y = y; self.width = width; self.height = height
            coverage = [UInt8](Data(base64Encoded: alpha) ?? Data())
        }
    }
    let size: Int
    let glyphs: [Glyph]

    /// The glyph of `c` ('?' for characters outside printable ASCII).
    func glyph(_ c: Character) -> Glyph {
        let v = c.unicodeScalars.first.map { Int($0.value) } ?? 63
        return glyphs[(32...126).contains(v) ? v - 32 : 63 - 32]
    }
    func width(_ s: String) -> Int { s.reduce(0) { $0 + glyph($1).advance } }
}

/// An RGB canvas with coverage-based antialiasing: lines and discs by distance, polygons by
/// scanline, text from the glyph atlas.
struct Canvas {
    let width, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, background: RGB) {
        self.width = width; self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = background.r; pixels[3 * i + 1] = background.g; pixels[3 * i + 2] = background.b }
    }

    mutating func blend(_ x: Int, _ y: Int, _ c: RGB, _ a: Double) {
        guard x >= 0, y >= 0, x < width, y < height, a > 0 else { return }
        let i = 3 * (y * width + x), t = min(1, a)
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 { UInt8((Double(old) * (1 - t) + Double(new) * t).rounded()) }
        pixels[i] = mix(pixels[i], c.r); pixels[i + 1] = mix(pixels[i + 1], c.g); pixels[i + 2] = mix(pixels[i + 2], c.b)
    }

    /// A segment of width `w`; `dash` (on, off) in pixels along it, starting at `phase`.
    mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: RGB, width w: Double = 1, dash: (Double, Double)? = nil, phase: Double = 0) {
        let dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy, r = w / 2 + 1
        let minX = Int(floor(min(x0, x1) - r)), maxX = Int(ceil(max(x0, x1) + r))
        let minY = Int(floor(min(y0, y1) - r)), maxY = Int(ceil(max(y0, y1) + r))
        for y in stride(from: max(0, minY), through: min(height - 1, maxY), by: 1) {
            for x in stride(from: max(0, minX), through: min(width - 1, maxX), by: 1) {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let t = len2 > 0 ? max(0, min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0
                let qx = x0 + t * dx - px, qy = y0 + t * dy - py
                let d = (qx * qx + qy * qy).squareRoot()
                if let (on, off) = dash, (phase + t * len2.squareRoot()).truncatingRemainder(dividingBy: on + off) > on { continue }
                blend(x, y, c, min(1, w / 2 + 0.5 - d))
            }
        }
    }

    mutating func disc(_ cx: Double, _ cy: Double, radius: Double, _ c: RGB) {
        for y in stride(from: Int(cy - radius - 1), through: Int(cy + radius + 1), by: 1) {
            for x in stride(from: Int(cx - radius - 1), through: Int(cx + radius + 1), by: 1) {
                let d = ((Double(x) + 0.5 - cx) * (Double(x) + 0.5 - cx) + (Double(y) + 0.5 - cy) * (Double(y) + 0.5 - cy)).squareRoot()
                blend(x, y, c, radius + 0.5 - d)
            }
        }
    }

    /// A filled polygon (even-odd rule at pixel centres), `alpha` opaque.
    mutating func polygon(_ pts: [(Double, Double)], _ c: RGB, alpha: Double) {
        guard pts.count > 2 else { return }
        let ys = pts.map(\.1)
        for y in stride(from: max(0, Int(ys.min()!)), through: min(height - 1, Int(ys.max()!)), by: 1) {
            let sy = Double(y) + 0.5
            var xs: [Double] = []
            for i in pts.indices {
                let (ax, ay) = pts[i], (bx, by) = pts[(i + 1) % pts.count]
                if (ay <= sy) != (by <= sy) { xs.append(ax + (sy - ay) / (by - ay) * (bx - ax)) }
            }
            xs.sort()
            for k in stride(from: 0, to: xs.count - 1, by: 2) {
                for x in stride(from: max(0, Int((xs[k] - 0.5).rounded(.up))), through: min(width - 1, Int((xs[k + 1] - 0.5).rounded(.down))), by: 1) {
                    blend(x, y, c, alpha)
                }
            }
        }
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ c: RGB) {
        line(x, y, x + w, y, c); line(x + w, y, x + w, y + h, c); line(x + w, y + h, x, y + h, c); line(x, y + h, x, y, c)
    }

    enum Anchor { case start, middle, end }

    /// Text with its baseline at `y`; `vertical` turns it 90° counter-clockwise around (x, y).
    mutating func text(_ s: String, x: Double, y: Double, _ atlas: GlyphAtlas, _ c: RGB, anchor: Anchor = .start, vertical: Bool = false) {
        let w = Double(atlas.width(s))
        var pen = anchor == .start ? 0 : anchor == .middle ? -w / 2 : -w
        for ch in s {
            let g = atlas.glyph(ch)
            for gy in 0..<g.height {
                for gx in 0..<g.width {
                    let a = Double(g.coverage[gy * g.width + gx]) / 255
                    guard a > 0 else { continue }
                    let u = Int(pen.rounded()) + g.x + gx, v = g.y + gy  // along the text, below the baseline
                    if vertical { blend(Int(x) + v, Int(y) - u, c, a) } else { blend(Int(x) + u, Int(y) + v, c, a) }
                }
            }
            pen += Double(g.advance)
        }
    }
}

/// A figure as PNG, drawn like the SVG (same layout), through libpng.
public enum Raster {
    public static func png(_ f: Figure, to path: String) throws {
        let c = render(f)
        try ImageEncoder.writePNG(path, pixels: c.pixels, width: c.width, height: c.height, gray: false)
    }

    static func render(_ f: Figure) -> Canvas {
        let L = FigureLayout(f), p = f.palette
        var c = Canvas(width: Int(L.width), height: Int(L.height), background: p.background)
        c.text(f.title, x: L.width / 2, y: 20, .title, p.text, anchor: .middle)
        for (i, panel) in f.panels.enumerated() {
            let a = L.plot(i)
            c.text(panel.title, x: a.x + a.w / 2, y: a.y - 10, .small, p.text, anchor: .middle)
            for t in L.yTicks {
                let y = L.py(t, a)
                c.line(a.x, y, a.x + a.w, y, p.grid, width: 0.6)
                c.text(Ticks.label(t), x: a.x - 6, y: y + 4, .small, p.text, anchor: .end)
            }
            for t in L.xTicks {
                let x = L.px(t, a)
                c.line(x, a.y + a.h, x, a.y + a.h + 4, p.axis)
                c.text(Ticks.label(t), x: x, y: a.y + a.h + 16, .small, p.text, anchor: .middle)
            }
            c.rect(a.x, a.y, a.w, a.h, p.axis)
            c.text(f.xLabel, x: a.x + a.w / 2, y: a.y + a.h + 34, .small, p.text, anchor: .middle)
            c.text(f.yLabel, x: a.x - 44, y: a.y + a.h / 2, .small, p.text, anchor: .middle, vertical: true)
            for s in panel.series {
                let band = s.band.filter { $0.low.isFinite && $0.high.isFinite }
                if band.count > 1 {
                    c.polygon(band.map { (L.px($0.x, a), L.py($0.high, a)) } + band.reversed().map { (L.px($0.x, a), L.py($0.low, a)) }, s.color, alpha: 0.18)
                }
                let line = s.points.filter { $0.x.isFinite && $0.y.isFinite }
                var phase = 0.0
                for (u, v) in zip(line, line.dropFirst()) where !s.scatter {
                    let (x0, y0, x1, y1) = (L.px(u.x, a), L.py(u.y, a), L.px(v.x, a), L.py(v.y, a))
                    c.line(x0, y0, x1, y1, s.color, width: 1.8, dash: s.dashed ? (5, 3) : nil, phase: phase)
                    phase += ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
                }
                for (k, q) in s.points.enumerated() where q.x.isFinite && q.y.isFinite {
                    let x = L.px(q.x, a), y = L.py(q.y, a)
                    if k < s.errors.count, s.errors[k] > 0 { c.line(x, L.py(q.y - s.errors[k], a), x, L.py(q.y + s.errors[k], a), s.color) }
                    if s.markers || s.scatter || line.count == 1 { c.disc(x, y, radius: s.radius, s.color) }
                }
            }
        }
        for (k, item) in L.legend.enumerated() {
            let o = L.legendOrigin(k)
            c.line(o.x, o.y + 10, o.x + 18, o.y + 10, item.color, width: 3, dash: item.dashed ? (5, 3) : nil)
            c.text(item.name, x: o.x + 24, y: o.y + 14, .small, p.text)
        }
        return c
    }
}
