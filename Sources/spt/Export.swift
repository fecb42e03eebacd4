import ArgumentParser
import Foundation
import SPTEngine
import SPTRuns

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export run logs (files or session directories) as one CSV file, or as TensorBoard event files.",
        discussion: """
        Inputs are run logs (.jsonl), TensorBoard run directories and W&B run files (.wandb), or \
        directories holding them (a `wandb/` directory of runs). \
        --format tensorboard writes one directory per run under --out (created when missing; \
        existing run directories are refused): open it with `tensorboard --logdir OUT`.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, tensorboard }

    @Argument(help: "Run-log files or directories holding them.") var logs: [String]
    @Option(help: "Output CSV file, or directory for --format tensorboard.") var out: String
    @Option(help: "csv or tensorboard.") var format: Format = .csv
    @Option(help: "tidy (a row per value) or wide (a row per step).") var layout: CSVExport.Layout = .tidy
    @Option(help: "TensorBoard EMA smoothing weight in [0, 0.999], written into the file.") var smoothing = 0.6

    func validate() throws {
        try OptionCheck.require(smoothing.isFinite && (0...0.999).contains(smoothing), "smoothing", smoothing, "must be in [0, 0.999]")
    }

    func run() throws {
        if format == .tensorboard {
            let (runs, issues) = try TensorBoardExport.export(paths: logs, to: out)
            for i in issues { FileHandle.standardError.write(Data("warning: \(i)\n".utf8)) }
            say("wrote \(runs.count) TensorBoard run(s) under \(out)")
            return
        }
        let issues = try CSVExport.export(paths: logs, to: out, layout: layout, smoothing: smoothing)
        for i in issues { FileHandle.standardError.write(Data("warning: \(i)\n".utf8)) }
        say("wrote \(out)")
    }
}

extension CSVExport.Layout: ExpressibleByArgument {}
