import Foundation
import SPTRuns

/// The prompt map of one block (docs/METHOD.md §4.4): the probe images' sampled patch tokens as a
/// braille density in the run's projection plane, the prompts as numbered markers in the run's
/// colour, where they started (since the last initialization) as dim rings, and beside the plot
/// each prompt's distance to its nearest patch token. A prompt outside the view is drawn at the
/// edge as an arrow pointing its way.
struct PromptMapPanel {
    var run: RunView
    var block: Int
    var role: ColorRole
    var glyphs: Glyphs

    static let listWidth = 24

    /// Prompt k's marker: 1…9, then a…z, then +.
    static func label(_ k: Int) -> String {
        k < 9 ? String(k + 1) : k < 35 ? String(UnicodeScalar(UInt8(97 + k - 9))) : "+"
    }

    func draw(into buf: inout CellBuffer, x: Int, y: Int, width: Int, height: Int) {
        guard let map = run.lastMap, !map.prompts.isEmpty else {
            buf.put(String("prompt map — \(run.label)".prefix(width)), x: x, y: y, role: .title, attrs: .bold)
            buf.put(String("no map in this run's log yet (written at NMI probes, `--maps`)".prefix(width)), x: x + 2, y: y + 1, role: .dim)
            return
        }
        let b = min(block, map.prompts.count - 1)
        let explained = run.projection.flatMap { b < $0.explained.count && $0.explained[b].count == 2 ? $0.explained[b] : nil }
        let axes = explained.map { String(format: " · x PC1 %.0f%%, y PC2 %.0f%% of the variance", $0[0] * 100, $0[1] * 100) } ?? ""
        buf.put(String("prompt map — block \(b) of \(map.prompts.count) (</>) — \(run.label) · step \(map.step)\(axes)".prefix(width)),
                x: x, y: y, role: .title, attrs: .bold)
        let pw = width - Self.listWidth - 1, ph = height - 1, top = y + 1
        guard pw >= 8, ph >= 3 else { return }
        let prompts = MapRecord.points(map.prompts[b]), patches = MapRecord.points(map.patches[b])
        let start = run.firstMap.flatMap { $0.step != map.step && b < $0.prompts.count ? MapRecord.points($0.prompts[b]) : nil } ?? []
        // The view: the patch cloud's extent, padded; prompts outside it go to the edge.
        let xs = patches.map(\.0), ys = patches.map(\.1)
        var (x0, x1, y0, y1) = (xs.min() ?? -1, xs.max() ?? 1, ys.min() ?? -1, ys.max() ?? 1)
        let padX = max((x1 - x0) * 0.05, 1e-6), padY = max((y1 - y0) * 0.05, 1e-6)
        x0 -= padX; x1 += padX; y0 -= padY; y1 += padY
        let dotsW = pw * 2, dotsH = ph * 4
        func dot(_ p: (Double, Double)) -> (Int, Int) {
            (Int(((p.0 - x0) / (x1 - x0) * Double(dotsW - 1)).rounded()), Int(((y1 - p.1) / (y1 - y0) * Double(dotsH - 1)).rounded()))
        }
        var bits = [UInt8](repeating: 0, count: pw * ph), counts = [Int](repeating: 0, count: pw * ph)
        for p in patches {
            let (dx, dy) = dot(p)
            guard dx >= 0, dx < dotsW, dy >= 0, dy < dotsH else { continue }
            let bx = dx % 2, by = dy % 4, c = (dy / 4) * pw + dx / 2
            bits[c] |= by == 3 ? (bx == 0 ? 0x40 : 0x80) : UInt8(1 << (by + 3 * bx))
            counts[c] += 1
        }
        for cy in 0..<ph {
            for cx in 0..<pw where bits[cy * pw + cx] != 0 {
                let ch: Unicode.Scalar = glyphs.ascii ? (counts[cy * pw + cx] > 3 ? ":" : ".") : Unicode.Scalar(0x2800 + UInt32(bits[cy * pw + cx]))!
                buf[x + cx, top + cy] = Cell(ch, role: counts[cy * pw + cx] > 3 ? .text : .dim)
            }
        }
        func cell(_ p: (Double, Double)) -> (x: Int, y: Int, inside: Bool) {
            let (dx, dy) = dot(p)
            let inside = dx >= 0 && dx < dotsW && dy >= 0 && dy < dotsH
            return (min(max(dx, 0), dotsW - 1) / 2, min(max(dy, 0), dotsH - 1) / 4, inside)
        }
        for p in start {
            let c = cell(p)
            if c.inside { buf.put(glyphs.ascii ? "o" : "∘", x: x + c.x, y: top + c.y, role: role, attrs: .dim) }
        }
        var outside: Set<Int> = []
        for (k, p) in prompts.enumerated() {
            let c = cell(p)
            if c.inside {
                buf.put(Self.label(k), x: x + c.x, y: top + c.y, role: role, attrs: .bold)
            } else {
                outside.insert(k)
                buf.put(glyphs.arrow(dx: p.0 < x0 ? -1 : p.0 > x1 ? 1 : 0, dy: p.1 > y1 ? 1 : p.1 < y0 ? -1 : 0),
                        x: x + c.x, y: top + c.y, role: role, attrs: .bold)
            }
        }
        // Beside the plot: each prompt's distance to its nearest patch token, where it started.
        let lx = x + pw + 1, near = b < map.nearest.count ? map.nearest[b] : []
        let was = run.firstMap.flatMap { $0.step != map.step && b < $0.nearest.count ? $0.nearest[b] : nil }
        let median = MapRecord.median(near).map { String(format: "%.2fσ", $0) } ?? "—"
        buf.put(String("median nearest \(median)".prefix(Self.listWidth)), x: lx, y: top, role: .dim)
        let rows = near.count <= ph - 1 ? near.count : max(0, ph - 2)
        for k in 0..<rows {
            let from = was.flatMap { k < $0.count ? String(format: " ← %.2f", $0[k]) : nil } ?? ""
            let line = String(format: "%@ %5.2fσ%@%@", Self.label(k), near[k], from, outside.contains(k) ? " off" : "")
            buf.put(String(line.prefix(Self.listWidth)), x: lx, y: top + 1 + k, role: outside.contains(k) ? .warning : .text)
            buf.put(Self.label(k), x: lx, y: top + 1 + k, role: role, attrs: .bold)
        }
        if near.count > rows, ph >= 2 { buf.put("+\(near.count - rows) more", x: lx, y: top + ph - 1, role: .dim) }
    }
}
