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
        against the learning rate. NAME=PATH,PATH… joins sessions into one section NAME (one \
        spt compare per strategy, a sweep's jobs). Writes OUT/report.md and one .svg and .png per figure into a new \
        or empty OUT (never a file, an input or inside one), built whole before it appears.
        """)

    @Argument(help: "Session directories (or run logs, TensorBoard or W&B logs); NAME=PATH,PATH… joins several into one section.") var sessions: [String]
    @Option(help: "Output directory.") var out: String
    @Option(help: "Theme whose colours the figures use (light reads best in print).") var theme = "light"
    @Option(help: "Report title.") var title = "spt report"

    func run() throws {
        let themes = Theme.loadAll().themes
        guard let t = themes.first(where: { $0.name == theme }) else {
            throw ValidationError("--theme \(theme): no such theme (have: \(themes.map(\.name).joined(separator: ", ")))")
        }
        let inputs = try Report.inputs(sessions)
        let (report, issues) = try Report.build(inputs, palette: Palette(theme: t), title: title)
        for i in issues { warn("warning: \(i)") }
        // The output rule: OUT new or empty, built whole in a staging directory.
        try SafeOutput.directory(out, inputs: inputs.flatMap(\.paths)) { dir in
            for f in report.figures {
                let base = (dir as NSString).appendingPathComponent(f.name)
                try SafeOutput.write(to: base + ".svg") { try $0(f.svg) }
                try Raster.png(f.figure, to: base + ".png")
            }
            try SafeOutput.write(to: (dir as NSString).appendingPathComponent("report.md")) { try $0(report.markdown) }
        }
        let md = (out as NSString).appendingPathComponent("report.md")
        say("wrote \(md) and \(report.figures.count) figures (SVG and PNG)")
    }
}
