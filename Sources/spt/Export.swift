import ArgumentParser
import Foundation
import SPTEngine
import SPTRuns

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export run logs (files or session directories) as one CSV file: all runs, all metrics.")

    @Argument(help: "Run-log files or directories holding them.") var logs: [String]
    @Option(help: "Output CSV file.") var out: String
    @Option(help: "tidy (a row per value) or wide (a row per step).") var layout: CSVExport.Layout = .tidy
    @Option(help: "TensorBoard EMA smoothing weight in [0, 0.999], written into the file.") var smoothing = 0.6

    func validate() throws {
        try OptionCheck.require(smoothing.isFinite && (0...0.999).contains(smoothing), "smoothing", smoothing, "must be in [0, 0.999]")
    }

    func run() throws {
        let issues = try CSVExport.export(paths: logs, to: out, layout: layout, smoothing: smoothing)
        for i in issues { FileHandle.standardError.write(Data("warning: \(i)\n".utf8)) }
        say("wrote \(out)")
    }
}

extension CSVExport.Layout: ExpressibleByArgument {}
