import ArgumentParser
import Foundation
import SPTDashboard
import SPTEngine
import SPTReport
import SPTRuns

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A Markdown report of sessions (spt compare output, run logs, TensorBoard logs) with SVG and PNG figures.",
        discussion: """
        Per session: accuracy mean ± sd over seeds per strategy and prompt count (test when the \
        runs have it, else val), initialization time and NMI start → end; training loss and \
        accuracy per strategy with seed bands; NMI per block per strategy over training; accuracy \
        against the prompt count when the session sweeps it; the --tune grid's val accuracy \
        against the learning rate. Writes OUT/report.md and one .svg and .png per figure; refuses \
        an OUT that is a file or inside an input.
        """)

    @Argument(help: "Session directories (or run logs, or TensorBoard log directories).") var sessions: [String]
    @Option(help: "Output directory.") var out: String
    @Option(help: "Theme whose colours the figures use (light reads best in print).") var theme = "light"
    @Option(help: "Report title.") var title = "spt report"

    func run() throws {
        let themes = Theme.loadAll().themes
        guard let t = themes.first(where: { $0.name == theme }) else {
            throw ValidationError("--theme \(theme): no such theme (have: \(themes.map(\.name).joined(separator: ", ")))")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), !isDir.boolValue {
            throw ValidationError("--out \(out): is a file (name a directory)")
        }
        try SafeOutput.checkInputs(out, inputs: sessions)
        let (report, issues) = try Report.build(paths: sessions, palette: Palette(theme: t), title: title)
        for i in issues { warn("warning: \(i)") }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for f in report.figures {
            let base = (out as NSString).appendingPathComponent(f.name)
            try SafeOutput.write(to: base + ".svg") { try $0(f.svg) }
            try Raster.png(f.figure, to: base + ".png")
        }
        let md = (out as NSString).appendingPathComponent("report.md")
        try SafeOutput.write(to: md) { try $0(report.markdown) }
        say("wrote \(md) and \(report.figures.count) figures (SVG and PNG)")
    }
}
