import ArgumentParser
import Dispatch
import Foundation
import SPTDashboard
import SPTApp
import SPTCommandLine
import SPTEngine
import SPTRuns
import SPTTerminal

@main
struct SPTTUI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spt-tui",
        abstract: "Live dashboard: train visual prompts with every init strategy side by side, replay and export runs.",
        discussion: "Without --replay or --watch it starts a comparison session on the embedded default: one run per strategy.")

    @OptionGroup var runFlags: RunFlags
    @OptionGroup var strategyFlags: StrategyFlags
    @Option(help: "Replay saved logs: a run log (.jsonl), a TensorBoard run, a W&B run file (.wandb), or a directory of them.") var replay: String?
    @Option(help: "Replay speed ×1…×100.") var speed = 10.0
    @Option(help: "Follow the logs (run logs, TensorBoard, W&B) in a directory that other processes are writing.") var watch: String?
    @Option(help: "Theme name (themes/*.json).") var theme = "dark"
    @Flag(help: "ASCII glyphs instead of blocks and braille (automatic without a UTF-8 locale).") var ascii = false

    static func main() {
        BLASCore.relaunchIfUndetected()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // Foundation's file errors as "path: reason", never a domain-and-code dump.
            exit(withError: readableError(error))
        }
    }

    func validate() throws {
        try OptionCheck.require(speed.isFinite && (1...100).contains(speed), "speed", speed, "must be in 1…100")
    }

    func run() throws {
        try Terminal.checkUsable() // before any run starts or log is written
        let themes = Theme.loadAll()
        let names = themes.themes.map(\.name)
        guard names.isEmpty || names.contains(theme) else {
            throw ValidationError("unknown theme \(theme); available: \(names.joined(separator: ", "))")
        }
        let locale = (ProcessInfo.processInfo.environment["LC_ALL"] ?? ProcessInfo.processInfo.environment["LC_CTYPE"]
                      ?? ProcessInfo.processInfo.environment["LANG"] ?? "").uppercased()
        // The dashboard names strategies as run logs and control channels do: by their strings.
        let strategyNames = InitStrategy.allCases.map(\.rawValue)
        var state: DashboardState, source: RunSource, exportPaths: [String]
        if let replay {
            let src = try ReplaySource(path: replay, speed: speed)
            state = DashboardState(mode: .replay, task: "", backbone: "", themes: names, strategies: strategyNames)
            state.source = replay
            state.replaySpeed = speed
            if !src.issues.isEmpty { state.status = "\(src.issues.count) unreadable line(s) skipped: \(src.issues[0])" }
            (source, exportPaths) = (src, src.files)
        } else if let watch {
            state = DashboardState(mode: .watch, task: "", backbone: "", themes: names, strategies: strategyNames)
            state.source = watch
            (source, exportPaths) = (WatchSource(directory: watch), [watch])
        } else {
            Parallel.setThreads(runFlags.threads)
            let run = runFlags
            let live = LiveSession(load: {
                let (backbone, source) = try run.load()
                return (backbone, TaskData(source: source, options: run.trainOptions(strategy: .random, backbone: nil)))
            }, options: run.trainOptions, session: RunDirectory.newSessionID(), runsDir: run.runsDir)
            state = DashboardState(mode: .live, task: run.task, backbone: Backbone.displayName(run.backbone), themes: names, strategies: strategyNames)
            live.start(strategies: strategyFlags.strategies)
            (source, exportPaths) = (live, [live.sessionDirectory])
        }
        state.theme = names.firstIndex(of: theme) ?? 0
        state.ascii = ascii || !(locale.contains("UTF-8") || locale.contains("UTF8"))
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let app = App(state: state, source: source, terminal: Terminal(), exportPaths: exportPaths, noColor: noColor)
        app.themes = themes.themes
        try app.run()
    }
}

extension Terminal: TerminalBackend {}

