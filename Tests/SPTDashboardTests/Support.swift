import Foundation
import Testing
import SPTDashboard
import SPTRuns
import TestSupport

/// Compares text with Snapshots/<name>.txt (TestSupport's helper: a line diff on failure).
func expectSnapshot(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try TestSupport.expectSnapshot(text, at: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/\(name).txt"),
                                   sourceLocation: sourceLocation)
}

/// Text lines followed by one line of colour-role codes per row (t text, d dim, T title, a axis,
/// h highlight, w warning, e error, g good, b border, 0-9 series, . background).
func render(_ buf: CellBuffer) -> String {
    func code(_ r: ColorRole) -> Character {
        switch r {
        case .text: "t"; case .dim: "d"; case .title: "T"; case .axis: "a"; case .border: "b"
        case .highlight: "h"; case .warning: "w"; case .error: "e"; case .good: "g"; case .background: "."
        case .series(let i): Character(String(i % 10))
        case .rgb: "#"
        }
    }
    let text = buf.lines.map { "|" + $0 + "|" }
    let roles = (0..<buf.height).map { y in String((0..<buf.width).map { code(buf[$0, y].role) }) }
    return (text + ["--- roles ---"] + roles).joined(separator: "\n") + "\n"
}

func header(_ run: String, strategy: String) -> RunHeader {
    RunHeader(run: run, session: "s", created: "2026-11-24T00:00:00Z", engine: "test", task: "fashion-mnist", backbone: "mae-tiny",
              strategy: strategy, deep: false, prompts: 10, optimizer: "adamw", lr: 1e-3, weightDecay: 1e-4, epochs: 2, batch: 10,
              seed: 0, threads: 1, params: ["train_images": "100"])
}

/// A run of 20 steps with a loss that falls like 1/step, accuracy evals and 3-block NMI.
func records(_ run: String, strategy: String, scale: Double = 1) -> [RunRecord] {
    var r: [RunRecord] = [.header(header(run, strategy: strategy))]
    r.append(.nmi(NMIRecord(step: 0, epoch: 0, time: 0, values: [0.01 * scale, 1e-4 * scale, 1e-6], mode: "tokens", normalization: "sqrt")))
    for s in 1...20 {
        r.append(.train(TrainRecord(step: s, epoch: Double(s) / 10, time: Double(s) * 0.5, loss: 2 * scale / Double(s), lr: 1e-3,
                                    gradNorm: 1, imagesPerSecond: 100)))
        if s % 10 == 0 {
            r.append(.eval(EvalRecord(step: s, epoch: Double(s) / 10, time: Double(s) * 0.5, split: "val", loss: 1, accuracy: 0.3 + 0.01 * Double(s) * scale)))
            r.append(.nmi(NMIRecord(step: s, epoch: Double(s) / 10, time: Double(s) * 0.5, values: [0.02 * scale, 2e-4, 1e-6 * Double(s)],
                                    mode: "tokens", normalization: "sqrt")))
        }
    }
    return r
}
