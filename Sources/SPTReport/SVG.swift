import Foundation

/// A figure as a self-contained SVG document (no scripts, no external fonts: sans-serif text).
public enum SVG {
    public static func render(_ f: Figure) -> String {
        let L = FigureLayout(f), p = f.palette
        var out = [String]()
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        out.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(L.width))" height="\#(Int(L.height))" viewBox="0 0 \#(Int(L.width)) \#(Int(L.height))" font-family="sans-serif">"#)
        out.append(#"<rect width="100%" height="100%" fill="\#(p.background.hex)"/>"#)
        out.append(#"<text x="\#(n(L.width / 2))" y="20" text-anchor="middle" font-size="15" font-weight="bold" fill="\#(p.text.hex)">\#(escape(f.title))</text>"#)
        for (i, panel) in f.panels.enumerated() {
            let a = L.plot(i)
            out.append(#"<g class="panel">"#)
            if !panel.title.isEmpty {
                out.append(#"<text x="\#(n(a.x + a.w / 2))" y="\#(n(a.y - 10))" text-anchor="middle" font-size="12" fill="\#(p.text.hex)">\#(escape(panel.title))</text>"#)
            }
            for t in L.yTicks {
                let y = L.py(t, a)
                out.append(#"<line x1="\#(n(a.x))" y1="\#(n(y))" x2="\#(n(a.x + a.w))" y2="\#(n(y))" stroke="\#(p.grid.hex)" stroke-width="0.5"/>"#)
                out.append(#"<text x="\#(n(a.x - 6))" y="\#(n(y + 4))" text-anchor="end" font-size="10" fill="\#(p.text.hex)">\#(Ticks.label(t))</text>"#)
            }
            for t in L.xTicks {
                let x = L.px(t, a)
                out.append(#"<line x1="\#(n(x))" y1="\#(n(a.y + a.h))" x2="\#(n(x))" y2="\#(n(a.y + a.h + 4))" stroke="\#(p.axis.hex)"/>"#)
                out.append(#"<text x="\#(n(x))" y="\#(n(a.y + a.h + 16))" text-anchor="middle" font-size="10" fill="\#(p.text.hex)">\#(Ticks.label(t))</text>"#)
            }
            out.append(#"<rect x="\#(n(a.x))" y="\#(n(a.y))" width="\#(n(a.w))" height="\#(n(a.h))" fill="none" stroke="\#(p.axis.hex)"/>"#)
            out.append(#"<text x="\#(n(a.x + a.w / 2))" y="\#(n(a.y + a.h + 34))" text-anchor="middle" font-size="11" fill="\#(p.text.hex)">\#(escape(f.xLabel))</text>"#)
            out.append(#"<text transform="translate(\#(n(a.x - 48)) \#(n(a.y + a.h / 2))) rotate(-90)" text-anchor="middle" font-size="11" fill="\#(p.text.hex)">\#(escape(f.yLabel))</text>"#)
            for s in panel.series {
                let c = s.color.hex
                let band = s.band.filter { $0.low.isFinite && $0.high.isFinite }
                if band.count > 1 {
                    let pts = band.map { "\(n(L.px($0.x, a))),\(n(L.py($0.high, a)))" } + band.reversed().map { "\(n(L.px($0.x, a))),\(n(L.py($0.low, a)))" }
                    out.append(#"<polygon class="band" points="\#(pts.joined(separator: " "))" fill="\#(c)" fill-opacity="0.18" stroke="none"/>"#)
                }
                let line = s.points.filter { $0.x.isFinite && $0.y.isFinite }
                if line.count > 1 && !s.scatter {
                    let pts = line.map { "\(n(L.px($0.x, a))),\(n(L.py($0.y, a)))" }.joined(separator: " ")
                    out.append(#"<polyline class="series" points="\#(pts)" fill="none" stroke="\#(c)" stroke-width="1.8"\#(s.dashed ? #" stroke-dasharray="5 3""# : "")/>"#)
                }
                for (k, q) in s.points.enumerated() where q.x.isFinite && q.y.isFinite {
                    let x = L.px(q.x, a), y = L.py(q.y, a)
                    if k < s.errors.count, s.errors[k] > 0 {
                        out.append(#"<line class="error" x1="\#(n(x))" y1="\#(n(L.py(q.y - s.errors[k], a)))" x2="\#(n(x))" y2="\#(n(L.py(q.y + s.errors[k], a)))" stroke="\#(c)"/>"#)
                    }
                    if s.markers || s.scatter || line.count == 1 { out.append(#"<circle cx="\#(n(x))" cy="\#(n(y))" r="\#(String(format: "%g", s.radius))" fill="\#(c)"/>"#) }
                }
            }
            out.append("</g>")
        }
        for (k, item) in L.legend.enumerated() {
            let o = L.legendOrigin(k)
            out.append(#"<line x1="\#(n(o.x))" y1="\#(n(o.y + 10))" x2="\#(n(o.x + 18))" y2="\#(n(o.y + 10))" stroke="\#(item.color.hex)" stroke-width="3"\#(item.dashed ? #" stroke-dasharray="5 3""# : "")/>"#)
            out.append(#"<text x="\#(n(o.x + 24))" y="\#(n(o.y + 14))" font-size="11" fill="\#(p.text.hex)">\#(escape(item.name))</text>"#)
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .filter { $0.unicodeScalars.allSatisfy { $0.value >= 0x20 } }
    }
}
