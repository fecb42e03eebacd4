import SPTDashboard

/// What the loop draws on and reads keys from: the ncurses terminal, or an in-memory fake in tests.
public protocol TerminalBackend: AnyObject {
    func start() throws
    func stop()
    var size: (width: Int, height: Int) { get }
    func setTheme(_ theme: Theme, noColor: Bool)
    /// How many colours it shows (0 without colour; 2²⁴ for direct RGB).
    var colorCount: Int { get }
    /// Draws a frame (a real terminal writes only what changed).
    func draw(_ frame: CellBuffer)
    /// The next frame is drawn in full (after a resize).
    func invalidate()
    /// The next key, or nil when none is waiting.
    func readKey() -> Key?
}

/// Where a dashboard's runs come from — the live engine, a replay, a watched directory — turning
/// time into messages and performing the effects meant for it.
public protocol RunSource: AnyObject {
    /// Messages for `dt` more real seconds.
    func poll(_ dt: Double) -> [Message]
    /// A command for a live engine; sources without one answer with a status message.
    func perform(_ command: EngineCommand) -> [Message]
    /// A replay command; sources that do not replay answer with a status message.
    func perform(_ command: ReplayCommand) -> [Message]
    /// Ends the source: stop training, sync logs. Called once, when the loop ends.
    func close()
}
