import Foundation
import Testing
import SPTEngine
import SPTRuns

@Suite struct PromptTrainerTests {
    func fixture(strategy: InitStrategy, deep: Bool = false, writer: RunLogWriter? = nil, kmeansImages: Int? = nil,
                 progress: @escaping (TrainerPhase) -> Void = { _ in }) throws -> (PromptTrainer, Backbone, () -> [RunRecord]) {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 8, depth: 2, heads: 2, mlpDim: 16)
        let bb = Synthetic.backbone(c, seed: 1), ds = Synthetic.images(150, classes: 3, seed: 9)
        let task = TaskData(source: DataSplits(train: ds, test: ds.subset(Array(0..<20))), protocol: .tune, trainSize: 100, valSize: 20)
        var o = TrainOptions()
        o.initialization = InitOptions(strategy: strategy)
        o.initialization.initImages = 4
        o.prompts = PromptSpec(count: 3, deep: deep)
        o.epochs = 2; o.batch = 16; o.nmiEvery = .every(2); o.probeImages = 4
        o.initialization.kmeansImages = kmeansImages
        var records: [RunRecord] = []
        let t = try PromptTrainer(options: o, backbone: bb, task: task, runID: "r", sessionID: "s", progress: progress,
                                  log: RunLogSink(writer: writer) { records.append($0) })
        return (t, bb, { records })
    }

    /// Gathering, K-means and evaluation report their progress; --kmeans-images bounds gathering.
    @Test func longPhasesReportProgressAndKMeansImagesBoundGathering() throws {
        var phases: [TrainerPhase] = []
        let (t, _, _) = try fixture(strategy: .kmeans, deep: true, kmeansImages: 24) { phases.append($0) }
        #expect(phases.first == .gathering(done: 0, total: 24) && phases.contains(.gathering(done: 24, total: 24)))
        #expect(phases.contains(.clustering(layer: 1, layers: 2)))
        while !t.finished { try t.trainStep() }
        #expect(phases.contains(.evaluating(split: "val", done: 20, total: 20)))
    }

    @Test func sameSeedGivesBitIdenticalLosses() throws {
        func losses() throws -> [Double] {
            let (t, _, recs) = try fixture(strategy: .kmeans, deep: true)
            while !t.finished { try t.trainStep() }
            return recs().compactMap { if case .train(let r) = $0 { r.loss } else { nil } }
        }
        let a = try losses(), b = try losses()
        #expect(a.count == 10)
        #expect(a == b)
    }

    @Test(arguments: InitStrategy.allCases)
    func everyStrategyTrainsWithAFrozenBackbone(strategy: InitStrategy) throws {
        let (t, bb, recs) = try fixture(strategy: strategy)
        let before = bb.params.values.array
        while !t.finished { try t.trainStep() }
        #expect(bb.params.values.array == before)
        let r = recs()
        guard case .header(let h) = r.first else { Issue.record("no header first"); return }
        #expect(h.strategy == strategy.rawValue)
        #expect(r.contains { if case .initialization(let i) = $0 { i.strategy == strategy.rawValue } else { false } })
        #expect(r.contains { if case .nmi(let n) = $0 { n.step == 0 && n.values.count == 2 } else { false } })
        #expect(r.contains { if case .eval(let e) = $0 { e.split == "val" } else { false } })
        guard case .event(let e) = r.last else { Issue.record("no final event"); return }
        #expect(e.event == "finished")
    }

    /// A log that cannot be written stops its run with the reason, at the first failed record.
    @Test func aFailedLogWriteStopsTheRun() throws {
        #expect(throws: RunLogError.self) { try fixture(strategy: .random, writer: RunLogWriter(path: "/dev/full")) }
        do { _ = try fixture(strategy: .random, writer: RunLogWriter(path: "/dev/full")) } catch {
            #expect("\(error)".contains("/dev/full: write failed: No space left on device"), "\(error)")
        }
        // Mid-run: the log's descriptor starts failing as a full disk would.
        let path = NSTemporaryDirectory() + "spt-full-\(UInt32.random(in: 0..<UInt32.max)).jsonl"
        let (t, _, _) = try fixture(strategy: .random, writer: RunLogWriter(path: path))
        try t.trainStep()
        try redirectToDevFull(path)
        #expect(throws: RunLogError.self) { try t.trainStep() }
        #expect(t.finished)
        try t.trainStep() // a finished run does nothing
        try FileManager.default.removeItem(atPath: path)
    }

    /// Points the descriptor this process has open on `path` at /dev/full (found through /proc).
    func redirectToDevFull(_ path: String) throws {
        let full = open("/dev/full", O_WRONLY)
        defer { close(full) }
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name), target == path,
               let fd = Int32(name) {
                dup2(full, fd)
                return
            }
        }
        Issue.record("no open descriptor on \(path)")
    }

    @Test func switchingStrategyLogsASegmentAndReinitializes() throws {
        let (t, _, recs) = try fixture(strategy: .random)
        try t.trainStep()
        let before = t.model.task.array("prompt_embeddings")
        try t.switchStrategy(to: .sample, reason: "test")
        #expect(t.model.task.array("prompt_embeddings") != before)
        #expect(recs().contains { if case .segment(let s) = $0 { s.step == 1 && s.strategy == "sample" } else { false } })
        try t.trainStep()
        #expect(t.strategy == .sample && t.step == 2)
    }

    /// docs/METHOD.md §4 on a shipped backbone: Xavier-small random prompts barely attend to the patch
    /// tokens (NMI ≈ 0 at step 0: below 0.005 of its [0, 1] range in every block); prompts made
    /// of patch-token prototypes do, several times more on average.
    @Test func randomPromptsStartNearZeroNMIOnAPretrainedBackbone() throws {
        let bb = try Backbone.load("sup-tiny")
        let task = TaskData(source: StructuredTasks.make(.shape, size: bb.config.imageSize, train: 60, test: 10), protocol: .tune,
                            trainSize: 40, valSize: 10)
        func nmiAtStepZero(_ s: InitStrategy) throws -> [Double] {
            var o = TrainOptions()
            o.initialization = InitOptions(strategy: s)
            o.prompts = PromptSpec(count: 10, deep: true); o.epochs = 1; o.probeImages = 8
            var first: [Double] = []
            _ = try PromptTrainer(options: o, backbone: bb, task: task, runID: "r", sessionID: "s", log: RunLogSink { r in
                if case .nmi(let n) = r, n.step == 0, first.isEmpty { first = n.values }
            })
            return first
        }
        let random = try nmiAtStepZero(.random), kmeans = try nmiAtStepZero(.kmeans)
        #expect(random.count == bb.config.depth && kmeans.count == bb.config.depth)
        #expect(random.allSatisfy { $0 >= 0 && $0 < 5e-3 }, "random prompts at step 0: \(random)")
        let mean = { (v: [Double]) in v.reduce(0, +) / Double(v.count) }
        #expect(mean(kmeans) > 5 * mean(random), "kmeans \(kmeans) vs random \(random)")
    }
}
