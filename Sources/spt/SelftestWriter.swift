import ArgumentParser
import Foundation
import SPTRuns

/// Used by the run-log crash test: appends records as fast as it can until killed.
struct SelftestWriter: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "selftest-writer", shouldDisplay: false)
    @Option var out: String

    func run() throws {
        let w = try RunLogWriter(path: out)
        try w.append(.header(RunHeader(run: "crash", session: "crash", engine: "selftest", task: "none", backbone: "none",
                                       strategy: "random", deep: false, prompts: 1, optimizer: "sgd", lr: 0.1,
                                       weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1)))
        say("ready")
        var step = 0
        while true {
            step += 1
            try w.append(.train(TrainRecord(step: step, epoch: Double(step), time: Double(step), loss: 1 / Double(step),
                                            lr: 0.1, gradNorm: 1, imagesPerSecond: 1)))
            if step % 7 == 0 {
                try w.append(.nmi(NMIRecord(step: step, epoch: 0, time: 0, values: Array(repeating: 0.5, count: 64),
                                            mode: "tokens", normalization: "sqrt")))
            }
        }
    }
}
