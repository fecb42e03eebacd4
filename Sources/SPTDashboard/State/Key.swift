/// A decoded key press.
public enum Key: Equatable, Sendable {
    case char(Character)
    case up, down, left, right, tab, backTab, enter, escape, backspace, resize
    case other(Int)

    /// Decodes a plain character code (control characters become named keys).
    public init(scalar: Unicode.Scalar?) {
        guard let s = scalar else { self = .other(-1); return }
        switch s.value {
        case 9: self = .tab
        case 10, 13: self = .enter
        case 27: self = .escape
        case 127, 8: self = .backspace
        default: self = .char(Character(s))
        }
    }
}
