@preconcurrency import CNcurses
import CTerminalRestore
import Foundation
import SPTDashboard

/// The only place that calls ncursesw: owns the screen between `start` and `stop`, writes only
/// the cells that changed since the previous frame, and decodes keys.
public final class Terminal {
    private var previous: CellBuffer?
    /// Colour pairs by the terminal's (foreground, background) colour numbers, made as frames need
    /// them: literal colours that the terminal shows alike share a pair.
    private struct PairKey: Hashable { var fg: Int32; var bg: Int32 }
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private var theme: Theme?
    public private(set) var isActive = false

    public init() {}

    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Throws, with what to do instead, unless standard input and output are a terminal whose
    /// type can address the cursor.
    public static func checkUsable() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw Unusable(description: "spt-tui draws on a terminal, and standard input or output is not one; for scripts use spt train, spt compare or spt export")
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        switch spt_terminal_usable() {
        case 1: return
        case 0: throw Unusable(description: "terminal type '\(term)' cannot move the cursor; run spt-tui in a terminal such as xterm (TERM=xterm-256color)")
        default: throw Unusable(description: "terminal type '\(term.isEmpty ? "(TERM unset)" : term)' is unknown to terminfo; set TERM (e.g. TERM=xterm-256color)")
        }
    }

    /// Enters curses mode. Requires a UTF-8 locale for block and braille glyphs. A fatal signal
    /// from here to `stop` restores the terminal before the crash is reported.
    public func start() throws {
        try Self.checkUsable()
        setlocale(LC_ALL, "")
        spt_save_terminal()
        initscr()
        cbreak(); noecho(); nonl()
        keypad(spt_stdscr(), true)
        nodelay(spt_stdscr(), true)
        _ = spt_set_escdelay(25)
        curs_set(0)
        if has_colors() { start_color(); use_default_colors() }
        spt_install_crash_restore()
        isActive = true
        previous = nil
    }

    /// Leaves curses mode; safe to call more than once.
    public func stop() {
        guard isActive else { return }
        isActive = false
        endwin()
        spt_remove_crash_restore()
    }

    public var size: (width: Int, height: Int) {
        (Int(spt_max_x(spt_stdscr())), Int(spt_max_y(spt_stdscr())))
    }

    /// How many colours the terminal shows: 0 (none), 8/16, 256, or 2²⁴ (direct RGB).
    public var colorCount: Int { has_colors() ? Int(spt_colors()) : 0 }

    /// Colours cells with `theme` in the best form the terminal supports: direct RGB, then the
    /// nearest xterm-256 colour, then the nearest of 16 (or 8), else none. Every theme role gets
    /// its pair now; literal colours (the image view's) get theirs when first drawn, while pairs last.
    public func setTheme(_ theme: Theme, noColor: Bool) {
        pairs = [:]
        nextPair = 1
        previous = nil
        self.theme = noColor || colorCount < 8 ? nil : theme
        for role in theme.roles { _ = pair(role, nil) }
    }

    private func colorNumber(_ c: ThemeColor) -> Int32 {
        let n = colorCount
        switch c {
        case .terminalDefault: return -1
        case .rgb(let r, let g, let b) where n >= 0x100_0000: return Int32(r) << 16 | Int32(g) << 8 | Int32(b)
        default:
            if n >= 256 { return Int32(c.xterm256 ?? -1) }
            let a = c.ansi16 ?? -1
            return Int32(a >= n ? a - 8 : a)
        }
    }

    private func pair(_ fg: ColorRole, _ bg: ColorRole?) -> Int32 {
        guard let theme else { return 0 }
        let key = PairKey(fg: colorNumber(theme.color(fg)), bg: bg.map { colorNumber(theme.color($0)) } ?? -1)
        if let p = pairs[key] { return p }
        guard nextPair < spt_color_pairs() else { return 0 }
        init_extended_pair(nextPair, key.fg, key.bg)
        pairs[key] = nextPair
        nextPair += 1
        return nextPair - 1
    }

    /// Draws a frame, writing only changed runs.
    public func draw(_ frame: CellBuffer) {
        for run in screenDiff(old: previous, new: frame) {
            var a = spt_a_normal()
            if run.attrs.contains(.bold) { a |= spt_a_bold() }
            if run.attrs.contains(.reverse) { a |= spt_a_reverse() }
            if run.attrs.contains(.dim) { a |= spt_a_dim() }
            if run.attrs.contains(.underline) { a |= spt_a_underline() }
            var pair = pair(run.role, run.background)
            for (i, s) in run.text.enumerated() {
                var wc: [wchar_t] = [wchar_t(bitPattern: s.value), 0]
                _ = spt_put_cell(Int32(run.y), Int32(run.x + i), &wc, a, &pair)
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
        if r == KEY_CODE_YES { return decodeKeyCode(Int32(ch)) }
        return Key(scalar: Unicode.Scalar(UInt32(ch)))
    }
}


/// Maps ncurses function-key codes to keys.
func decodeKeyCode(_ code: Int32) -> Key {
    switch code {
    case KEY_UP: .up
    case KEY_DOWN: .down
    case KEY_LEFT: .left
    case KEY_RIGHT: .right
    case KEY_BTAB: .backTab
    case KEY_ENTER: .enter
    case KEY_BACKSPACE: .backspace
    case spt_key_resize(): .resize
    default: .other(Int(code))
    }
}
