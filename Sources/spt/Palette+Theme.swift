import SPTDashboard
import SPTReport

extension Palette {
    /// A dashboard theme's colours for figures: `text`, `axis`, `border` (grid lines),
    /// `background` and the series colours. ANSI colours take xterm's values; the terminal's
    /// default is black text on white.
    init(theme: Theme) {
        func rgb(_ c: ThemeColor, _ fallback: RGB) -> RGB {
            switch c {
            case .rgb(let r, let g, let b): return RGB(r, g, b)
            case .ansi(let i) where (0..<16).contains(i): return Self.xterm[i]
            case .ansi, .terminalDefault: return fallback
            }
        }
        let white = RGB(255, 255, 255), black = RGB(0, 0, 0)
        self.init(text: rgb(theme.color(.text), black), axis: rgb(theme.color(.axis), RGB(128, 128, 128)),
                  grid: rgb(theme.color(.border), RGB(210, 210, 210)), background: rgb(theme.color(.background), white),
                  series: theme.series.enumerated().map { rgb($1, Self.xterm[9 + $0 % 6]) })
    }

    /// xterm's 16 colours.
    static let xterm: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0), RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0), RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]
}
