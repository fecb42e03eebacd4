import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine
import SPTRuns

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train one run and write its run log.")
    @OptionGroup var opts: RunFlags
    @Option(help: "Prompt initialization: \(InitStrategy.allCases.map(\.rawValue).joined(separator: ", ")).") var strategy = Defaults.trainStrategy
    @Flag(help: "Load backbone and task, print the memory this run would need, and stop.") var dryRun = false
    @Option(help: "Write the initial prompts and head (after initialization, before step 1) to this safetensors file.") var saveInit: String?
    @Option(help: "Session directory name under --runs-dir (default: a new one). A run whose checkpoint is there resumes.") var session: String?
    @Option(help: "Write the run's checkpoint beside its log every N steps (0: only on SIGTERM, SIGINT or SIGUSR1), for resuming.") var checkpointEvery = 50
    @Flag(help: "Resume the run in --session from its checkpoint; an error when there is none (without it, a checkpoint there is resumed anyway).") var resume = false

    func run() throws {
        Parallel.setThreads(opts.threads)
        let (backbone, source) = try opts.load()
        let options = opts.trainOptions(strategy: strategy, backbone: backbone)
        let task = TaskData(source: source, options: options)
        // Before anything is written (no session directory, no empty log): options the task cannot
        // have, and a run that will not fit, are refused.
        try options.validate(config: backbone.config, trainImages: task.train.count)
        let plan = try MemoryPlan.check(config: backbone.config, options: options, trainImages: task.train.count, classes: task.classes,
                                        dataBytes: task.bytes, strategies: [strategy])
        say("memory: about \(plan)")
        say("precision: \(opts.precisionLine)")
        if dryRun { return }
        if let saveInit { try SafeOutput.check(saveInit, inputs: InputFlags.readPaths(task: opts.task, backbone: opts.backbone)) }
        try OptionCheck.require(checkpointEvery >= 0, "checkpoint-every", checkpointEvery, "must be 0 or more")
        if resume && session == nil { throw ValidationError("--resume needs the --session whose run it continues") }
        let session = session ?? RunDirectory.newSessionID()
        let runID = strategy.rawValue
        let path = RunDirectory.path(root: opts.runsDir, session: session, run: runID)
        let checkpointPath = TrainerCheckpoint.path(forLog: path)
        // A checkpoint beside the log: the same run goes on (a preempted or killed job run again).
        var checkpoint: TrainerCheckpoint?
        if FileManager.default.fileExists(atPath: checkpointPath) {
            checkpoint = try TrainerCheckpoint(path: checkpointPath, options: options)
            say("resuming \(path) from step \(checkpoint!.step) (\(checkpointPath))")
        } else if resume {
            throw ValidationError("--resume: \(checkpointPath) does not exist")
        } else if FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) exists and has no checkpoint to resume; name another --session")
        }
        if checkpoint != nil, saveInit != nil {
            throw ValidationError("--save-init: this run resumes from step \(checkpoint!.step); its initial prompts were those of its first start")
        }
        // SLURM sends SIGTERM (or the --signal asked for, e.g. SIGUSR1) before it kills or requeues.
        let signals = SignalWatch([SIGTERM, SIGINT, SIGUSR1])
        let writer = try RunLogWriter(path: path)
        let summary = RunSummary()
        say("log: \(path)")
        let phases = PhaseReporter(say)
        let trainer = try PromptTrainer(options: options, backbone: backbone,
                                        task: task, runID: runID, sessionID: session, progress: phases.report,
                                        restoring: checkpoint, log: RunLogSink(writer: writer, observe: summary.add))
        if let checkpoint {
            // Only now that its state loaded is the log cut back to where the checkpoint was written.
            try RunLogWriter.truncate(path, to: checkpoint.logBytes)
            trainer.mark(.restored, message: "from \((checkpointPath as NSString).lastPathComponent)")
        }
        if let saveInit {
            // What another engine needs to start from the same point (the parity tests of spt_torch).
            try SafeTensors.write(path: saveInit, tensors: SafeTensors.tensors(of: trainer.model.task),
                                  metadata: ["run": runID, "strategy": strategy.rawValue, "backbone_hash": backbone.hash,
                                             "train_selection": task.selectionHash, "engine": engineVersion])
            say("initial prompts and head: \(saveInit)")
        }
        let start = Date(), first = trainer.step
        while !trainer.finished {
            if let sig = signals.received {
                try trainer.saveCheckpoint(to: checkpointPath, log: writer)
                trainer.finish(.stopped, message: "signal \(sig): checkpoint written at step \(trainer.step); the same command resumes")
                say("signal \(sig): checkpoint \(checkpointPath) at step \(trainer.step); run the same command to resume")
                throw ExitCode(128 + sig)
            }
            try trainer.trainStep()
            if checkpointEvery > 0, trainer.step % checkpointEvery == 0, !trainer.finished {
                try trainer.saveCheckpoint(to: checkpointPath, log: writer)
            }
            if trainer.step % 5 == 0 || trainer.finished {
                let f = Double(trainer.step) / Double(trainer.totalSteps), t = Date().timeIntervalSince(start)
                let eta = t / Double(max(1, trainer.step - first)) * Double(trainer.totalSteps - trainer.step)
                say(String(format: "%@ step %d/%d loss %.4f · %@ · ETA %@ %@", ProgressBar.render(fraction: f, width: 20),
                           trainer.step, trainer.totalSteps, summary.lastLoss, ProgressBar.duration(t), ProgressBar.duration(eta), summary.evalText))
            }
        }
        try? FileManager.default.removeItem(atPath: checkpointPath)  // the run is over: nothing to resume
        say(summary.report(strategy: strategy.rawValue))
    }
}

/// The last of the given signals this process received (each one's default action replaced).
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var last: Int32?
    private let lock = NSLock()

    init(_ signals: [Int32]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.set(sig) }
            s.resume()
            sources.append(s)
        }
    }

    private func set(_ sig: Int32) { lock.lock(); last = sig; lock.unlock() }
    var received: Int32? { lock.lock(); defer { lock.unlock() }; return last }
}

/// Collects what `spt train` and `spt compare` print at the end.
final class RunSummary: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var lastLoss = Double.nan
    private(set) var evals: [String: [Double]] = [:]
    private(set) var nmi: [[Double]] = []
    private(set) var initSeconds = 0.0, gatherSeconds = 0.0
    private(set) var diverged: String?

    func add(_ r: RunRecord) {
        lock.lock(); defer { lock.unlock() }
        switch r {
        case .train(let t): lastLoss = t.loss
        case .eval(let e): evals[e.split, default: []].append(e.accuracy)
        case .nmi(let n): nmi.append(n.values)
        case .initialization(let i): initSeconds += i.seconds; gatherSeconds += i.gatherSeconds ?? 0
        case .event(let e) where e.kind == .diverged: diverged = e.message
        default: break
        }
    }

    var evalText: String {
        lock.lock(); defer { lock.unlock() }
        return evals.keys.sorted().compactMap { k in evals[k]!.last.map { String(format: "%@ acc %.1f%%", k, $0 * 100) } }.joined(separator: " ")
    }

    var nmiStart: Double { mean(nmi.first ?? []) }
    var nmiEnd: Double { mean(nmi.last ?? []) }
    /// nil when the run never evaluated on `split` (no val split in final runs) or diverged.
    func finalAccuracy(_ split: String) -> Double? { diverged == nil ? evals[split]?.last : nil }
    func bestAccuracy(_ split: String) -> Double? { evals[split]?.max() }

    func report(strategy: String) -> String {
        String(format: "%@: %@ | init %.2fs (+%.2fs gather) | NMI mean %.2e → %.2e", strategy, evalText, initSeconds,
               gatherSeconds, nmiStart, nmiEnd)
    }
}

