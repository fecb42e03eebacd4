import Foundation
import SPTRuns

/// The image view (docs/METHOD.md §4.4): the run's first probe image drawn with half blocks (two
/// pixels a cell, in literal colours), overlaid in one block with the prompt each patch is
/// nearest to, or with one prompt's attention over the patches. Without colours (ASCII, NO_COLOR,
/// fewer than 256 colours) the pixels become density characters and the overlay the nearest
/// prompt's label, or the attention as density.
struct ImagePanel {
    var run: RunView
    var block: Int
    /// nil: the nearest-prompt overlay; k: prompt k's attention.
    var prompt: Int?
    var colors: Bool
    var glyphs: Glyphs

    static let density = Array(" .:-=+*#%@".unicodeScalars)

    func draw(into buf: inout CellBuffer, x: Int, y: Int, width: Int, height: Int) {
        guard let image = run.projection?.imagePixels, let map = run.lastMap, let nearestAll = map.imageNearest, !nearestAll.isEmpty else {
            buf.put(String("image — \(run.label)".prefix(width)), x: x, y: y, role: .title, attrs: .bold)
            buf.put(String("no probe image in this run's log yet (written with its first prompt map)".prefix(width)), x: x + 2, y: y + 1, role: .dim)
            return
        }
        let b = min(block, nearestAll.count - 1), nearest = nearestAll[b]
        let prompts = map.prompts[min(b, map.prompts.count - 1)].count / 2
        let attention = map.imageAttention.flatMap { b < $0.count ? $0[b] : nil } ?? []
        let m = nearest.count, grid = Int(Double(m).squareRoot().rounded())
        let shown = attention.isEmpty ? nil : prompt.map { min($0, attention.count / max(1, m) - 1) }
        let what = shown.map { "prompt \(PromptMapPanel.label($0))'s attention over the patches ((/) choose; past the last: nearest prompt)" }
            ?? "each patch tinted by its nearest prompt ((/) show a prompt's attention)"
        buf.put(String("image — block \(b) of \(nearestAll.count) (</>) — \(run.label) · step \(map.step) · \(what)".prefix(width)),
                x: x, y: y, role: .title, attrs: .bold)
        guard grid * grid == m, height >= 3 else { return }
        // Fit, nearest-neighbour: a pixel is a column and half a row in colour; without colour a
        // character, two columns wide, so that pixels stay square on cells twice as tall as wide.
        let perRow = colors ? 2 : 1, perColumn = colors ? 1 : 2
        let scale = min(Double((width - 30) / perColumn) / Double(image.width), Double((height - 1) * perRow) / Double(image.height), 1)
        let w = max(1, Int(Double(image.width) * scale)), h = max(perRow, Int(Double(image.height) * scale) / perRow * perRow)
        func pixel(_ px: Int, _ py: Int) -> (grey: Double, rgb: (Double, Double, Double), patch: Int) {
            let sx = min(image.width - 1, px * image.width / w), sy = min(image.height - 1, py * image.height / h)
            let i = (sy * image.width + sx) * image.channels
            let rgb = image.channels == 3 ? (Double(image.bytes[i]), Double(image.bytes[i + 1]), Double(image.bytes[i + 2]))
                                          : (Double(image.bytes[i]), Double(image.bytes[i]), Double(image.bytes[i]))
            let patch = (sy * grid / image.height) * grid + sx * grid / image.width
            return ((rgb.0 + rgb.1 + rgb.2) / 3 / 255, rgb, patch)
        }
        func overlay(_ patch: Int) -> (value: Double, color: (Double, Double, Double)) {
            if let k = shown {
                let v = attention[k * m + patch] / 100
                return (v, (255 * min(1, 2 * v), 255 * max(0, 2 * v - 1), 64 * (1 - v)))   // dark blue → red → yellow
            }
            let k = Int(nearest[patch])
            return (Double(k), Self.hue(Double(k) / Double(max(1, prompts))))
        }
        let top = y + 1
        for row in 0..<(h / perRow) {
            for col in 0..<w {
                if colors {
                    let (a, b) = (pixel(col, row * 2), pixel(col, row * 2 + 1))
                    func mixed(_ p: (grey: Double, rgb: (Double, Double, Double), patch: Int)) -> ColorRole {
                        let o = overlay(p.patch), t = shown == nil ? 0.45 : 0.6 * (0.25 + 0.75 * o.value)
                        func c(_ base: Double, _ tint: Double) -> UInt32 { UInt32(max(0, min(255, base * (1 - t) + tint * t))) }
                        return .rgb(c(p.rgb.0, o.color.0) << 16 | c(p.rgb.1, o.color.1) << 8 | c(p.rgb.2, o.color.2))
                    }
                    buf[x + col, top + row] = Cell("▀", role: mixed(a), background: mixed(b))
                } else {
                    let p = pixel(col, row), o = overlay(p.patch)
                    let v = shown == nil ? p.grey : o.value
                    let c = Cell(Self.density[min(Self.density.count - 1, Int(v * Double(Self.density.count - 1) + 0.5))], role: .text)
                    buf[x + 2 * col, top + row] = c
                    buf[x + 2 * col + 1, top + row] = c
                }
            }
        }
        if !colors && shown == nil {
            // The nearest prompt's label at each patch's centre.
            for patch in 0..<m {
                let cx = (patch % grid * 2 + 1) * w * perColumn / (2 * grid), cy = (patch / grid * 2 + 1) * (h / perRow) / (2 * grid)
                buf.put(PromptMapPanel.label(Int(nearest[patch])), x: x + cx, y: top + cy, role: .highlight, attrs: .bold)
            }
        }
        // Beside the image: the prompts' colours and how many patches each is nearest to.
        let lx = x + w * perColumn + 2
        var counts = [Int](repeating: 0, count: prompts)
        for k in nearest where Int(k) < prompts { counts[Int(k)] += 1 }
        buf.put(shown == nil ? "nearest prompt: patches" : "attention, % of its largest", x: lx, y: top, role: .dim)
        if shown == nil {
            let rows = min(prompts, height - 2)
            for k in 0..<rows {
                let c = Self.hue(Double(k) / Double(max(1, prompts)))
                if colors { buf[lx, top + 1 + k] = Cell("█", role: .rgb(UInt32(c.0) << 16 | UInt32(c.1) << 8 | UInt32(c.2))) }
                buf.put("\(PromptMapPanel.label(k)) \(counts[k])", x: lx + 2, y: top + 1 + k, role: .text)
            }
        } else if let k = shown {
            let row = attention[(k * m)..<((k + 1) * m)]
            let top3 = row.indices.sorted { row[$0] > row[$1] }.prefix(3).map { "patch \($0 - k * m) (\(Int(row[$0]))%)" }
            for (i, t) in top3.enumerated() { buf.put(t, x: lx, y: top + 1 + i, role: .text) }
        }
    }

    /// A distinct colour per prompt: hue `t` ∈ [0, 1) at full saturation (RGB 0…255).
    static func hue(_ t: Double) -> (Double, Double, Double) {
        let h = t * 6, f = h - floor(h), q = 255 * (1 - f), u = 255 * f
        switch Int(h) % 6 {
        case 0: return (255, u, 0)
        case 1: return (q, 255, 0)
        case 2: return (0, 255, u)
        case 3: return (0, q, 255)
        case 4: return (u, 0, 255)
        default: return (255, 0, q)
        }
    }
}
