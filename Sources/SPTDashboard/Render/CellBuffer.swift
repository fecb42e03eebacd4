/// Named colour roles: widgets draw with roles, themes map roles to colours.
public enum ColorRole: Hashable, Sendable {
    case text, dim, title, axis, border, highlight, warning, error, good, background
    case series(Int)
    /// A literal colour, 0xRRGGBB, whatever the theme (the image view's pixels).
    case rgb(UInt32)
}

/// Text attributes a cell may carry.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let dim = CellAttributes(rawValue: 4)
    public static let underline = CellAttributes(rawValue: 8)
}

/// One screen cell: a single-column Unicode scalar with its colour role, attributes, and a
/// background (nil: the terminal's).
public struct Cell: Hashable, Sendable {
    public var char: Unicode.Scalar
    public var role: ColorRole
    public var attrs: CellAttributes
    public var background: ColorRole?
    public init(_ char: Unicode.Scalar = " ", role: ColorRole = .text, attrs: CellAttributes = [], background: ColorRole? = nil) {
        self.char = char; self.role = role; self.attrs = attrs; self.background = background
    }
}

/// An off-screen grid of cells. Widgets draw here; only the terminal backend touches a screen.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// For terminals without a UTF-8 locale: text is written with ASCII fallbacks, and any other
    /// non-ASCII cell is replaced when the frame is finished (`asciify`).
    public var ascii = false

    public init(width: Int, height: Int) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0, y >= 0, x < width, y < height { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from (x, y) on one line, clipped at the right edge. Returns the next x.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: ColorRole = .text, attrs: CellAttributes = []) -> Int {
        var cx = x
        let text = ascii ? Glyphs.asciiText(text) : text
        guard y >= 0, y < height else { return x + text.unicodeScalars.count }
        for s in text.unicodeScalars {
            if cx >= width { break }
            if cx >= 0 { cells[y * width + cx] = Cell(s, role: role, attrs: attrs) }
            cx += 1
        }
        return cx
    }

    /// Replaces every non-ASCII cell by the first character of its fallback (or `?`).
    public mutating func asciify() {
        for i in cells.indices where !cells[i].char.isASCII {
            cells[i].char = Glyphs.asciiText(String(cells[i].char)).unicodeScalars.first ?? "?"
        }
    }

    /// The text of row y (for snapshot tests and captures), trailing spaces kept.
    public func line(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(self[x, y].char) }
        return String(s)
    }

    public var lines: [String] { (0..<height).map(line) }
}
