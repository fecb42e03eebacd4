import Foundation
import Testing
@testable import SPTEngine
import SPTRuns

/// `--nmi-every auto`: the rule (the same table as python/tests/test_defaults.py), its parsing, and
/// a run that resolves it, records it, probes at its multiples and keeps it across a checkpoint.
@Suite struct NMICadenceTests {
    static let table: [(probe: Double, step: Double, steps: Int)] = [
        (0, 1, 5), (0.1, 1, 5), (0.25, 1, 5), (0.26, 1, 10), (0.5, 1, 10), (0.99, 1, 20), (1, 1, 20), (1.01, 1, 25), (3, 0.5, 120),
    ]

    @Test func theSmallestMultipleOfFiveWithinFivePercent() {
        for r in Self.table {
            let n = NMICadence.steps(probeSeconds: r.probe, stepSeconds: r.step)
            #expect(n == r.steps, "\(r)")
            #expect(r.probe / (Double(n) * r.step) <= NMICadence.budget + 1e-12)
            #expect(n == 5 || r.probe / (Double(n - 5) * r.step) > NMICadence.budget)
        }
    }

    @Test func parsesAndEncodesAsTheCommandLineAndCheckpointsSpellIt() throws {
        #expect(NMICadence("auto") == .auto && NMICadence("15") == .every(15) && NMICadence("x") == nil)
        let data = try JSONEncoder().encode([NMICadence.auto, .every(3)])
        #expect(String(decoding: data, as: UTF8.self) == #"["auto",3]"#)
        #expect(try JSONDecoder().decode([NMICadence].self, from: data) == [.auto, .every(3)])
    }

    @Test func aRunResolvesAutoRecordsItAndProbesAtItsMultiples() throws {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 8, depth: 2, heads: 2, mlpDim: 16)
        let bb = Synthetic.backbone(c, seed: 1), ds = Synthetic.images(150, classes: 3, seed: 9)
        let task = TaskData(source: DataSplits(train: ds, test: ds.subset(Array(0..<20))), protocol: .tune, trainSize: 100, valSize: 20)
        var o = TrainOptions()
        o.prompts = PromptSpec(count: 3)
        o.epochs = 4; o.batch = 8; o.probeImages = 4
        #expect(o.nmiEvery == .auto)
        var records: [RunRecord] = []
        let t = try PromptTrainer(options: o, backbone: bb, task: task, runID: "r", sessionID: "s", log: RunLogSink(writer: nil) { records.append($0) })
        while !t.finished { try t.trainStep() }
        guard case .header(let h)? = records.first else { Issue.record("no header"); return }
        #expect(h[param: .nmiEvery] == String(t.nmiEvery) && t.nmiEvery % 5 == 0 && t.nmiEvery > 0)
        #expect(h[param: .nmiCadence]?.hasPrefix("auto: probe ") == true, "\(h[param: .nmiCadence] ?? "")")
        let steps = records.compactMap { if case .nmi(let r) = $0 { r.step } else { nil } }
        #expect(steps == Array(stride(from: 0, through: t.totalSteps, by: t.nmiEvery)))
    }
}
