/// The characters widgets draw with: Unicode (blocks, braille, box lines) or plain ASCII for
/// terminals without a UTF-8 locale (`--ascii`).
public struct Glyphs: Sendable, Equatable {
    public var ascii: Bool
    public init(ascii: Bool) { self.ascii = ascii }

    public var sparks: [Unicode.Scalar] {
        ascii ? [" ", ".", ":", "-", "=", "+", "*", "#"].map { Unicode.Scalar($0)! }
              : ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"].map { Unicode.Scalar($0)! }
    }
    public var vertical: String { ascii ? "|" : "│" }
    public var horizontal: String { ascii ? "-" : "─" }
    public var corner: String { ascii ? "+" : "└" }
    public var legendMark: String { ascii ? "#" : "■" }
    public var ellipsis: String { ascii ? "~" : "…" }
    /// An arrow pointing (dx, dy), each −1, 0 or 1, y up.
    public func arrow(dx: Int, dy: Int) -> String {
        let unicode = [[ "↙", "↓", "↘"], ["←", "•", "→"], ["↖", "↑", "↗"]], plain = [["/", "v", "\\"], ["<", "*", ">"], ["\\", "^", "/"]]
        return (ascii ? plain : unicode)[dy + 1][dx + 1]
    }

    /// What each non-ASCII character the dashboard writes becomes on an ASCII terminal.
    static let asciiFallbacks: [Unicode.Scalar: String] = [
        "·": ".", "×": "x", "—": "-", "→": "->", "↓": "down", "↑": "up", "÷": "/", "…": "...", "∞": "inf",
        "■": "#", "│": "|", "─": "-", "└": "+", "§": "sec. ", "±": "+-", "σ": "s", "∘": "o", "←": "<-",
    ]

    /// `text` with every character an ASCII terminal cannot show replaced: by its fallback, or `?`.
    public static func asciiText(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(\.isASCII) else { return text }
        var out = ""
        for s in text.unicodeScalars { out += s.isASCII ? String(s) : asciiFallbacks[s] ?? "?" }
        return out
    }
}
