import ArgumentParser
import Dispatch
import Foundation
import SPTDashboard
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
    @Option(parsing: .upToNextOption, help: "Strategies, one run each.") var strategies: [InitStrategy] = InitStrategy.allCases
    @Option(help: "Replay saved logs: a .jsonl file or a directory of them.") var replay: String?
    @Option(help: "Replay speed ×1…×100.") var speed = 10.0
    @Option(help: "Follow the logs in a directory that another process is writing.") var watch: String?
    @Option(help: "Theme name (themes/*.json).") var theme = "dark"
    @Flag(help: "ASCII glyphs instead of blocks and braille (automatic without a UTF-8 locale).") var ascii = false

    static func main() {
        BLASCore.relaunchIfUndetected()
        main(nil)
    }

    func validate() throws {
        try OptionCheck.require(speed.isFinite && (1...100).contains(speed), "speed", speed, "must be in 1…100")
        try OptionCheck.require(!strategies.isEmpty, "strategies", "", "name at least one")
    }

    func run() throws {
        try Terminal.checkUsable() // before any run starts or log is written
        let themes = Theme.loadAll()
        let names = themes.themes.map(\.name)
        guard names.isEmpty || names.contains(theme) else {
            throw ValidationError("unknown theme \(theme); available: \(names.joined(separator: ", "))")
        }
        let app: App
        if let replay {
            let src = try ReplaySource(path: replay, speed: speed)
            app = App(mode: .replay, task: "", backbone: "", exportPaths: src.files)
            app.state.source = replay
            app.replay = src
            app.state.replaySpeed = speed
            if !src.issues.isEmpty { app.state.status = "\(src.issues.count) unreadable line(s) skipped: \(src.issues[0])" }
        } else if let watch {
            app = App(mode: .watch, task: "", backbone: "", exportPaths: [watch])
            app.state.source = watch
            app.watch = WatchSource(directory: watch)
        } else {
            Parallel.setThreads(runFlags.threads)
            let run = runFlags
            let live = LiveSession(load: {
                let bb = try run.input.backbone(run.backbone)
                return (bb, TaskData(source: try bb.loadTask(run.task), options: run.trainOptions(strategy: .random, backbone: nil)))
            }, options: run.trainOptions, session: RunDirectory.newSessionID(), runsDir: run.runsDir)
            app = App(mode: .live, task: run.task, backbone: Backbone.displayName(run.backbone), exportPaths: [live.sessionDirectory])
            app.live = live
            live.start(strategies: strategies)
        }
        app.state.strategies = InitStrategy.allCases.map(\.rawValue)
        app.themes = themes.themes
        app.state.themes = names
        app.state.theme = names.firstIndex(of: theme) ?? 0
        let locale = (ProcessInfo.processInfo.environment["LC_ALL"] ?? ProcessInfo.processInfo.environment["LC_CTYPE"]
                      ?? ProcessInfo.processInfo.environment["LANG"] ?? "").uppercased()
        app.state.ascii = ascii || !(locale.contains("UTF-8") || locale.contains("UTF8"))
        try app.run()
    }
}

