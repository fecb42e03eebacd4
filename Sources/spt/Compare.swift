import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine
import SPTRuns

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several init strategies (× seeds × prompt counts) on one task and backbone; print a table.",
        discussion: """
        Runs go one after another, each using all --threads workers (on two cores that is as fast \
        as running two single-threaded runs side by side, and every run's log shows its own speed). \
        The backbone pass that gathers candidate tokens runs once and is shared by all runs.

        With --tune, each strategy's learning rate and weight decay are picked on the val split \
        (train 800 / val 200) by the mean over --tune-seeds (one seed's pick is noise at 200 val \
        images), then final runs train on all 1000 and report test accuracy. \
        When the best rate is the grid's lowest or highest, the grid grows by about 3× on that side \
        until the pick is bracketed (at most --max-grid-extensions rates); every point scored is in \
        the session's compare.json.

        Lists take spaces: --seeds 0 1 2 --prompt-counts 5 10 20 40 --strategies random kmeans.
        """)

    @OptionGroup var opts: RunFlags
    @OptionGroup var strategyFlags: StrategyFlags
    var strategies: [InitStrategy] { strategyFlags.strategies }
    @Option(parsing: .upToNextOption, help: "Seeds.") var seeds: [UInt64] = [0]
    @Option(parsing: .upToNextOption, help: "Prompt counts (default: --prompts).") var promptCounts: [Int] = []
    @Flag(help: "Pick lr and weight decay per strategy on val (mean over --tune-seeds; ties: the first in grid order), then run final (train 1000, test).") var tune = false
    @Option(parsing: .upToNextOption, help: "Seeds every --tune point trains with; the pick goes by their mean val accuracy.") var tuneSeeds: [UInt64] = [0, 1, 2]
    @Option(parsing: .upToNextOption, help: "Learning rates tried by --tune (default: 0.001 0.003 0.01 0.03; under --recipe vpt, VPT's base rates 50 … 0.05, given and tried as base rates × batch/256).") var lrGrid: [Float] = []
    @Option(parsing: .upToNextOption, help: "Weight decays tried by --tune (default: 0.0001; under --recipe vpt, VPT's 0.01 0.001 0.0001 0).") var wdGrid: [Float] = []

    /// The grids --tune searches, in the rates runs train with.
    var grids: (lr: [Float], wd: [Float]) {
        let vpt = opts.chosenRecipe == .vpt
        let lrs = lrGrid.isEmpty ? (vpt ? Recipe.vptBaseLRs : [1e-3, 3e-3, 1e-2, 3e-2]) : lrGrid
        return (vpt ? lrs.map { Recipe.vptScaled($0, batch: opts.batch) } : lrs,
                wdGrid.isEmpty ? (vpt ? Recipe.vptWeightDecays : [1e-4]) : wdGrid)
    }
    @Option(help: "Rates --tune may add (×≈3 beyond the grid's edge) while the best rate sits on an edge.") var maxGridExtensions = 4
    @Flag(help: "Print the table as JSON (progress goes to stderr, so stdout is JSON alone; values not measured are left out).") var json = false

    /// Progress lines: stdout for people, stderr under --json.
    private func progress(_ line: String) {
        if json { warn(line) } else { say(line) }
    }

    func validate() throws {
        for n in promptCounts { try OptionCheck.require(OptionCheck.prompts.contains(n), "prompt-counts", n, "must be in \(OptionCheck.prompts)") }
        for lr in lrGrid { try OptionCheck.positive("lr-grid", lr) }
        for wd in wdGrid { try OptionCheck.require(wd.isFinite && wd >= 0, "wd-grid", wd, "must be ≥ 0") }
        try OptionCheck.require((0...20).contains(maxGridExtensions), "max-grid-extensions", maxGridExtensions, "must be in 0...20")
        try OptionCheck.require(!seeds.isEmpty && !tuneSeeds.isEmpty, "seeds/--tune-seeds", "", "need at least one each")
    }

    func run() throws {
        Parallel.setThreads(opts.threads)
        let (backbone, source) = try opts.load()
        let session = RunDirectory.newSessionID()
        let counts = promptCounts.isEmpty ? [opts.prompts] : promptCounts
        var rows: [Row] = []
        let cache = CandidateCache()
        for np in counts {
            for strategy in strategies {
                var base = opts.trainOptions(strategy: strategy, backbone: backbone)
                base.prompts.count = np
                var bestVal: Double?
                var search: LRSearch.Result?
                if tune {
                    var grid = LRSearch(lrGrid: grids.lr, wdGrid: grids.wd)
                    grid.maxExtensions = maxGridExtensions
                    search = try grid.run { lr, wd in
                        try tuneSeeds.map { seed in
                            var o = base
                            o.optimizer.lr = lr; o.optimizer.weightDecay = wd; o.seed = seed; o.evalProtocol = .tune
                            return try runOne(o, backbone: backbone, source: source, session: session,
                                              id: "tune-\(strategy.rawValue)-np\(np)-lr\(lr)-wd\(wd)-s\(seed)", cache: cache).finalAccuracy("val")
                        }
                    }
                    guard let best = search?.best, let acc = best.accuracy else {
                        throw ValidationError("\(strategy.rawValue): every learning rate of the grid diverged")
                    }
                    base.optimizer.lr = best.lr; base.optimizer.weightDecay = best.weightDecay
                    base.evalProtocol = .final
                    bestVal = acc
                    let grown = (search!.extensions.isEmpty ? "" : " · grid grown by \(search!.extensions.map { String(format: "%g", $0) }.joined(separator: ", "))")
                        + (search!.bracketed ? "" : " · on the grid's edge")
                    progress(String(format: "%@ np=%d: picked lr %g wd %g (val %.1f%%)", strategy.rawValue, np, best.lr, best.weightDecay, acc * 100) + grown)
                }
                var summaries: [RunSummary] = []
                for seed in seeds {
                    var o = base
                    o.seed = seed
                    summaries.append(try runOne(o, backbone: backbone, source: source, session: session,
                                                id: "\(strategy.rawValue)-np\(np)-s\(seed)", cache: cache))
                }
                let split = base.evalProtocol == .final ? "test" : "val"
                let accs = summaries.compactMap { $0.finalAccuracy(split) }
                if !tune { bestVal = summaries.compactMap { $0.bestAccuracy("val") }.max() }
                rows.append(Row(strategy: strategy.rawValue, prompts: np, split: split, lr: base.optimizer.lr, weightDecay: base.optimizer.weightDecay,
                                accuracyMean: finite(mean(accs)), accuracySD: finite(sd(accs)), bestVal: bestVal,
                                initSeconds: mean(summaries.map(\.initSeconds)), gatherSeconds: mean(summaries.map(\.gatherSeconds)),
                                nmiStart: finite(mean(summaries.map(\.nmiStart))), nmiEnd: finite(mean(summaries.map(\.nmiEnd))),
                                diverged: summaries.filter { $0.diverged != nil }.count, tune: search))
            }
        }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        let table = try e.encode(Table(session: session, task: opts.task, backbone: backbone.name, seeds: seeds, rows: rows))
        // Beside the logs, for `spt report` and for anyone re-reading the comparison.
        let directory = (opts.runsDir as NSString).appendingPathComponent(session)
        try SafeOutput.write(to: (directory as NSString).appendingPathComponent("compare.json")) { try $0(String(decoding: table, as: UTF8.self)) }
        if json {
            say(String(decoding: table, as: UTF8.self))
        } else {
            say(Self.render(rows, task: opts.task, backbone: backbone.name, seeds: seeds.count))
            say("logs: \((opts.runsDir as NSString).appendingPathComponent(session))")
        }
    }

    private func runOne(_ o: TrainOptions, backbone: Backbone, source: DataSplits, session: String, id: String,
                        cache: CandidateCache) throws -> RunSummary {
        let task = TaskData(source: source, options: o)
        try o.validate(config: backbone.config, trainImages: task.train.count)  // before its log exists
        let writer = try RunLogWriter(path: RunDirectory.path(root: opts.runsDir, session: session, run: id))
        let summary = RunSummary()
        let layers = max(1, o.prompts.layers(depth: backbone.config.depth))
        let key = "\(o.evalProtocol.rawValue)-\(layers)-\(o.initialization.kmeansImages ?? 0)"
        let phases = PhaseReporter { progress("\(id): \($0)") }
        let trainer = try PromptTrainer(options: o, backbone: backbone, task: task, runID: id, sessionID: session,
                                        candidates: { report in
                                            try cache.get(key) { try Candidates.gather(backbone: backbone, data: o.initialization.gatheredImages(task.train), layerCount: layers) { report(.gathering(done: $0, total: $1)) } }
                                        }, progress: phases.report,
                                        log: RunLogSink(writer: writer, observe: summary.add))
        do {
            while !trainer.finished { try trainer.trainStep() }
        } catch let e as EngineError {
            progress("\(id): \(e)")
        }
        progress("\(id): \(summary.report(strategy: o.initialization.strategy.rawValue))")
        return summary
    }

    struct Row: Codable {
        var strategy: String, prompts: Int, split: String, lr: Float, weightDecay: Float
        /// Absent (JSON null) when there is nothing to report: every seed diverged, no val split, NMI off.
        var accuracyMean, accuracySD, bestVal: Double?
        var initSeconds, gatherSeconds: Double
        var nmiStart, nmiEnd: Double?
        var diverged: Int
        /// --tune: every point scored on val, the grid's extensions, whether the pick is bracketed.
        var tune: LRSearch.Result?
    }

    struct Table: Codable {
        var session, task, backbone: String
        var seeds: [UInt64]
        var rows: [Row]
    }

    static func render(_ rows: [Row], task: String, backbone: String, seeds: Int) -> String {
        var lines = ["\(task) · \(backbone) · \(seeds) seed(s)",
                     "strategy     Np  acc (\(rows.first?.split ?? "val"))      best val   lr       init s  gather s  NMI@0     NMI@end"]
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        func text(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "—" }
        for r in rows {
            let acc = r.accuracyMean.map { String(format: "%5.1f ± %.1f%%", $0 * 100, (r.accuracySD ?? 0) * 100) } ?? "—"
            lines.append(pad(r.strategy, 11) + String(format: " %3d  ", r.prompts) + pad(acc, 13) + "   "
                         + pad(text(r.bestVal.map { $0 * 100 }, "%5.1f%%"), 6) + "    "
                         + String(format: "%-7g  %6.2f  %7.2f   ", r.lr, r.initSeconds, r.gatherSeconds)
                         + pad(text(r.nmiStart, "%.2e"), 8) + "  " + text(r.nmiEnd, "%.2e")
                         + (r.diverged > 0 ? "  (\(r.diverged) diverged)" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// Computes each key's candidate tokens once.
final class CandidateCache: @unchecked Sendable {
    private var values: [String: Candidates] = [:]
    private let lock = NSLock()
    func get(_ key: String, _ make: () throws -> Candidates) throws -> Candidates {
        lock.lock(); defer { lock.unlock() }
        if let v = values[key] { return v }
        let v = try make()
        values[key] = v
        return v
    }
}
