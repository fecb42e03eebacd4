@preconcurrency import CNcurses
import Foundation
import SPTDashboard

/// The only place that calls ncursesw: owns the screen between `start` and `stop`, writes only
/// the cells that changed since the previous frame, and decodes keys.
public final class Terminal {
    private var previous: CellBuffer?
    private var pairs: [ColorRole: Int16] = [:]
    public private(set) var isActive = false

    public init() {}

    /// Enters curses mode. Requires a UTF-8 locale for block and braille glyphs.
    public func start() {
        setlocale(LC_ALL, "")
        initscr()
        cbreak(); noecho(); nonl()
        keypad(spt_stdscr(), true)
        nodelay(spt_stdscr(), true)
        _ = spt_set_escdelay(25)
        curs_set(0)
        if has_colors() { start_color(); use_default_colors() }
        isActive = true
        previous = nil
    }

    /// Leaves curses mode; safe to call more than once.
    public func stop() {
        guard isActive else { return }
        isActive = false
        endwin()
    }

    public var size: (width: Int, height: Int) {
        (Int(spt_max_x(spt_stdscr())), Int(spt_max_y(spt_stdscr())))
    }

    /// Maps roles to (foreground, background) colour numbers; -1 is the terminal default.
    public func setPalette(_ colors: [ColorRole: (fg: Int16, bg: Int16)]) {
        pairs = [:]
        guard has_colors() else { return }
        var n: Int16 = 1
        for (role, c) in colors where n < COLOR_PAIRS {
            init_pair(n, c.fg, c.bg)
            pairs[role] = n
            n += 1
        }
        previous = nil
    }

    /// Draws a frame, writing only changed runs.
    public func draw(_ frame: CellBuffer) {
        for run in screenDiff(old: previous, new: frame) {
            var a = spt_a_normal()
            if run.attrs.contains(.bold) { a |= spt_a_bold() }
            if run.attrs.contains(.reverse) { a |= spt_a_reverse() }
            if run.attrs.contains(.dim) { a |= spt_a_dim() }
            if run.attrs.contains(.underline) { a |= spt_a_underline() }
            let pair = pairs[run.role] ?? 0
            for (i, s) in run.text.enumerated() {
                var wc: [wchar_t] = [wchar_t(bitPattern: s.value), 0]
                _ = spt_put_cell(Int32(run.y), Int32(run.x + i), &wc, a, pair)
            }
        }
        refresh()
        previous = frame
    }

    /// Forces the next frame to be drawn in full (after a resize).
    public func invalidate() { previous = nil; clear() }

    /// The next key, or nil when none is waiting.
    public func readKey() -> Key? {
        var ch: wint_t = 0
        let r = get_wch(&ch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES { return Key(code: Int(ch)) }
        return Key(scalar: Unicode.Scalar(UInt32(ch)))
    }
}

/// A decoded key press.
public enum Key: Equatable, Sendable {
    case char(Character)
    case up, down, left, right, tab, backTab, enter, escape, backspace, resize
    case other(Int)

    init(scalar: Unicode.Scalar?) {
        guard let s = scalar else { self = .other(-1); return }
        switch s.value {
        case 9: self = .tab
        case 10, 13: self = .enter
        case 27: self = .escape
        case 127, 8: self = .backspace
        default: self = .char(Character(s))
        }
    }

    init(code: Int) {
        switch Int32(code) {
        case KEY_UP: self = .up
        case KEY_DOWN: self = .down
        case KEY_LEFT: self = .left
        case KEY_RIGHT: self = .right
        case KEY_BTAB: self = .backTab
        case KEY_ENTER: self = .enter
        case KEY_BACKSPACE: self = .backspace
        case spt_key_resize(): self = .resize
        default: self = .other(code)
        }
    }
}
