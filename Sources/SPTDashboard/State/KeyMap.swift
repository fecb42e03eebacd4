/// The dashboard's keys, once: `handleKey` looks actions up here, and the footer, the help
/// overlay and the README's key table are generated from it (a test checks the README).
public struct KeyBinding: Sendable {
    public enum Action: Sendable, CaseIterable {
        case quit, help, replayPause, replaySpeed, replayStep, replaySeek, replayStart, focus, strategy, addRun, pause, restart
        case metric, xAxis, panel, block, prompt, logY, smoothing, zoom, export, theme
    }
    /// How the keys are written in the help overlay and the README.
    public let keys: String
    /// The footer's short form.
    public let footer: String
    public let help: String
    public let modes: Set<DashboardState.Mode>
    public let action: Action
    /// The key presses that trigger it; for a two-way action (focus, speed, seek, smoothing,
    /// zoom) those that go forward or up, and `reverse` those that go back or down.
    public let presses: [Key]
    public var reverse: [Key] = []

    static let all: Set<DashboardState.Mode> = [.live, .replay, .watch]
    static let digits = (1...9).map { Key.char(Character(String($0))) }
}

extension KeyBinding {
    /// In footer order. Strategy digits stop at the session's strategy count. In watch mode the run
    /// keys go to the watched run's control channel (`ControlChannel`).
    public static let table: [KeyBinding] = [
        .init(keys: "q", footer: "q quit", help: "quit (asks while runs train); Ctrl-C quits cleanly too", modes: all, action: .quit, presses: [.char("q")]),
        .init(keys: "?", footer: "? help", help: "this help", modes: all, action: .help, presses: [.char("?")]),
        .init(keys: "p space", footer: "p pause", help: "pause / play the replay", modes: [.replay], action: .replayPause, presses: [.char("p"), .char(" ")]),
        .init(keys: "[ ]", footer: "[/] speed", help: "replay speed ÷2 / ×2 (1…100)", modes: [.replay], action: .replaySpeed, presses: [.char("]")], reverse: [.char("[")]),
        .init(keys: ".", footer: ". step", help: "replay one step", modes: [.replay], action: .replayStep, presses: [.char(".")]),
        .init(keys: "{ }", footer: "{/} seek", help: "seek back / forward 10%", modes: [.replay], action: .replaySeek, presses: [.char("}")], reverse: [.char("{")]),
        .init(keys: "0", footer: "0 start", help: "back to the start of the replay", modes: [.replay], action: .replayStart, presses: [.char("0")]),
        .init(keys: "tab ↓ j l / S-tab ↑ k h", footer: "tab focus", help: "focus the next / previous run", modes: all, action: .focus,
              presses: [.tab, .down, .char("j"), .right, .char("l")], reverse: [.backTab, .up, .char("k"), .left, .char("h")]),
        .init(keys: "1-5", footer: "1-5 strategy", help: "re-initialize the focused run's prompts (it goes on: a new segment)",
              modes: [.live, .watch], action: .strategy, presses: digits),
        .init(keys: "a then 1-5", footer: "a add", help: "add a run with that strategy", modes: [.live], action: .addRun, presses: [.char("a")]),
        .init(keys: "p space", footer: "p pause", help: "pause / resume the focused run", modes: [.live, .watch], action: .pause, presses: [.char("p"), .char(" ")]),
        .init(keys: "r", footer: "r restart", help: "restart the focused run from step 0 (the old one: stopped)", modes: [.live, .watch], action: .restart, presses: [.char("r")]),
        .init(keys: "m", footer: "m metric", help: "chart metric: loss, accuracy, NMI mean, lr, grad norm, other tags", modes: all, action: .metric, presses: [.char("m")]),
        .init(keys: "x", footer: "x axis", help: "x axis: step, epoch, time", modes: all, action: .xAxis, presses: [.char("x")]),
        .init(keys: "v", footer: "v panel", help: "panel: NMI per block, attention to the prompts per block, prompt map, image", modes: all, action: .panel, presses: [.char("v")]),
        .init(keys: "< >", footer: "</> block", help: "the prompt map's and the image's block: previous / next", modes: all, action: .block, presses: [.char(">")], reverse: [.char("<")]),
        .init(keys: "( )", footer: "(/) prompt", help: "the image's overlay: the nearest prompt, or one prompt's attention (previous / next)", modes: all, action: .prompt, presses: [.char(")")], reverse: [.char("(")]),
        .init(keys: "s S", footer: "s/S smooth", help: "smoothing weight down / up (TensorBoard's EMA)", modes: all, action: .smoothing, presses: [.char("S")], reverse: [.char("s")]),
        .init(keys: "L", footer: "L log", help: "log-scale y", modes: all, action: .logY, presses: [.char("L")]),
        .init(keys: "+ -", footer: "+/- zoom", help: "zoom to the latest part of the curves / out", modes: all, action: .zoom, presses: [.char("+"), .char("=")], reverse: [.char("-")]),
        .init(keys: "e", footer: "e export", help: "export every run as CSV (raw and smoothed), named in the status", modes: all, action: .export, presses: [.char("e")]),
        .init(keys: "t", footer: "t theme", help: "next theme", modes: all, action: .theme, presses: [.char("t")]),
    ]

    /// The binding a key press triggers in `mode`, and whether the press is one of its `reverse` keys.
    public static func lookup(_ k: Key, mode: DashboardState.Mode) -> (binding: KeyBinding, reverse: Bool)? {
        table.lazy.filter { $0.modes.contains(mode) }.compactMap { b in
            b.presses.contains(k) ? (b, false) : b.reverse.contains(k) ? (b, true) : nil
        }.first
    }

    /// The footer line of `mode`; "1-5" follows the session's strategy count.
    public static func footer(mode: DashboardState.Mode, strategies: Int) -> String {
        table.filter { $0.modes.contains(mode) }.map { $0.footer.replacingOccurrences(of: "1-5", with: "1-\(strategies)") }
            .joined(separator: "  ")
    }

    /// The README's key table, row by row.
    public static var markdownRows: [String] {
        table.map { b in
            let modes = b.modes == all ? "all" : ["live", "replay", "watch"].filter { b.modes.contains(DashboardState.Mode(rawValue: $0)!) }.joined(separator: ", ")
            return "| `\(b.keys)` | \(b.help) | \(modes) |"
        }
    }
}
