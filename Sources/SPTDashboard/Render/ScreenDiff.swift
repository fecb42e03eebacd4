/// A horizontal run of cells that share a role, attributes and background and changed since the last frame.
public struct CellRun: Equatable, Sendable {
    public init(x: Int, y: Int, text: [Unicode.Scalar], role: ColorRole, attrs: CellAttributes, background: ColorRole? = nil) {
        self.x = x; self.y = y; self.text = text; self.role = role; self.attrs = attrs; self.background = background
    }
    public let x, y: Int
    public let text: [Unicode.Scalar]
    public let role: ColorRole
    public let attrs: CellAttributes
    public let background: ColorRole?
}

/// Computes what must be written to turn `old` into `new`: only changed cells, grouped into runs
/// so the backend issues few calls. A size change redraws everything.
public func screenDiff(old: CellBuffer?, new: CellBuffer) -> [CellRun] {
    let full = old == nil || old!.width != new.width || old!.height != new.height
    var runs: [CellRun] = []
    for y in 0..<new.height {
        var x = 0
        while x < new.width {
            let c = new[x, y]
            if !full && old![x, y] == c { x += 1; continue }
            var text: [Unicode.Scalar] = [c.char]
            var e = x + 1
            while e < new.width {
                let n = new[e, y]
                guard n.role == c.role, n.attrs == c.attrs, n.background == c.background, full || old![e, y] != n else { break }
                text.append(n.char)
                e += 1
            }
            runs.append(CellRun(x: x, y: y, text: text, role: c.role, attrs: c.attrs, background: c.background))
            x = e
        }
    }
    return runs
}
