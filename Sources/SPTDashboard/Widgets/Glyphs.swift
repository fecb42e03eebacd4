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
}
