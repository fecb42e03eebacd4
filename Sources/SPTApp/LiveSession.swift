import Foundation
import SPTDashboard
import SPTEngine
import SPTRuns

/// Trains the session's runs on one engine thread, round-robin a step at a time, so that all
/// runs advance side by side while each step uses every worker core. The UI thread only posts
/// commands and drains messages: it never waits for training.
public final class LiveSession: RunSource, @unchecked Sendable {
    /// Loaded on the engine thread, so that the dashboard is up while a large backbone loads.
    private let load: () throws -> (Backbone, TaskData)
    private var backbone: Backbone!
    private var task: TaskData!
    /// A run's options for its strategy, defaults applied as `spt train` applies them.
    private let options: (InitStrategy, Backbone?) -> TrainOptions
    public let session: String
    let runsDir: String
    let outbox = Outbox()
    private var trainers: [(id: String, trainer: PromptTrainer, writer: RunLogWriter)] = []
    private var paused = Set<String>()
    /// Runs stopped by an error (their log could not be written): shown as "error", never stepped.
    private var broken = Set<String>()
    private var commands: [Command] = []
    /// An engine command with its strategy resolved, or a run to add at start.
    private enum Command { case engine(EngineCommand), add(InitStrategy) }
    private let lock = NSLock()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    private var candidates: Candidates?
    /// One set of activation workspaces for all runs: they are stepped one at a time.
    private let workspaces = Workspaces()
    private var next = 0
    /// Runs whose dashboard row shows a phase.
    private var phased = Set<String>()

    public init(load: @escaping () throws -> (Backbone, TaskData), options: @escaping (InitStrategy, Backbone?) -> TrainOptions,
                session: String, runsDir: String) {
        self.load = load; self.options = options; self.session = session; self.runsDir = runsDir
    }

    public var sessionDirectory: String { (runsDir as NSString).appendingPathComponent(session) }

    /// Every requested run appears at once (waiting); the engine thread loads, then starts them.
    public func start(strategies: [InitStrategy]) {
        let requested = strategies
        var ids: [String] = []
        for s in strategies { ids.append(Self.uniqueID(s.rawValue, taken: ids)) }
        for id in ids { outbox.post(.runPhase(id: id, phase: nil)) }
        let waiting = ids
        lock.lock()
        commands += strategies.map { .add($0) }
        lock.unlock()
        Thread.detachNewThread { [self] in
            outbox.post(.status("loading backbone and task…"))
            do {
                (backbone, task) = try load()
                // The runs share the backbone and one set of workspaces: a session that will not fit is
                // refused with a batch that does, instead of being killed.
                let plan = try MemoryPlan.check(config: backbone.config, options: options(.random, backbone), runs: requested.count, trainImages: task.train.count,
                                                classes: task.classes, dataBytes: task.bytes, strategies: requested)
                outbox.post(.status("logs: \(sessionDirectory) · memory about \(plan)"))
            } catch {
                for id in waiting { outbox.post(.records(id: id, [.event(EventRecord(step: 0, time: 0, .error, message: "\(error)"))])) }
                outbox.post(.status("cannot start: \(error)"))
                lock.lock(); commands = []; lock.unlock()
            }
            loop()
        }
    }

    static func uniqueID(_ name: String, taken: [String]) -> String {
        var id = name, n = 1
        while taken.contains(id) { n += 1; id = "\(name)-\(n)" }
        return id
    }

    public func poll(_ dt: Double) -> [Message] { outbox.drain() }

    public func perform(_ command: EngineCommand) -> [Message] {
        lock.lock(); commands.append(.engine(command)); lock.unlock()
        return []
    }

    public func perform(_ command: ReplayCommand) -> [Message] { [.status("nothing to replay in a live session")] }

    /// Stops training after the current step, logs "stopped" for unfinished runs, syncs logs.
    public func close() {
        // A ViT-B step takes seconds: say why the prompt is not back yet.
        FileHandle.standardError.write(Data("spt-tui: finishing the current training step and closing the logs…\n".utf8))
        lock.lock(); stopping = true; lock.unlock()
        done.wait()
    }

    private func loop() {
        while true {
            lock.lock()
            let cmds = commands; commands = []
            let stop = stopping
            lock.unlock()
            if stop { break }
            for c in cmds { handle(c) }
            let active = trainers.filter { !$0.trainer.finished && !paused.contains($0.id) && !broken.contains($0.id) }
            if active.isEmpty { usleep(20_000); continue }
            let t = active[next % active.count]
            next += 1
            defer { clearPhase(t.id) }
            do {
                try t.trainer.trainStep()
            } catch EngineError.diverged {
                // Logged by the trainer as a "diverged" event, which the dashboard shows.
            } catch {
                failed(t.id, step: t.trainer.step, error)
            }
        }
        for t in trainers where !t.trainer.finished && !broken.contains(t.id) { t.trainer.finish(.stopped, message: "dashboard closed") }
        for t in trainers { t.writer.sync() }
        done.signal()
    }

    private func handle(_ c: Command) {
        guard backbone != nil else { outbox.post(.status("nothing can run: the backbone or task did not load")); return }
        let e: EngineCommand
        switch c {
        case .add(let s): return addRun(s)
        case .engine(let command): e = command
        }
        func strategy(_ name: String) -> InitStrategy? {
            if let s = InitStrategy(rawValue: name) { return s }
            outbox.post(.status("unknown strategy \(name)"))
            return nil
        }
        func run(_ id: String) -> (id: String, trainer: PromptTrainer, writer: RunLogWriter)? {
            if let t = trainers.first(where: { $0.id == id }) { return t }
            outbox.post(.status("\(id) has not started yet"))
            return nil
        }
        switch e {
        case .addRun(let name):
            guard let s = strategy(name) else { return }
            addRun(s)
        case .switchStrategy(let id, let name):
            guard let s = strategy(name), let t = run(id) else { return }
            if t.trainer.finished { outbox.post(.status("\(id) has finished; press a to add a \(name) run")); return }
            do { try t.trainer.switchStrategy(to: s, reason: "switched in dashboard") } catch { failed(id, step: t.trainer.step, error) }
        case .pause(let id):
            guard let t = run(id), !t.trainer.finished else { return }
            paused.insert(id); t.trainer.mark(.pause)
        case .resume(let id):
            guard let t = run(id), paused.remove(id) != nil else { return }
            t.trainer.mark(.resume)
        case .restart(let id):
            guard let t = run(id) else { return }
            if !t.trainer.finished { t.trainer.finish(.stopped, message: "restarted") }
            addRun(t.trainer.strategy)
        }
    }

    /// Marks a run as failed on screen; the others go on. The error event reaches the dashboard
    /// even when the log cannot take it.
    private func failed(_ id: String, step: Int, _ error: Error) {
        broken.insert(id)
        outbox.post(.records(id: id, [.event(EventRecord(step: step, time: 0, .error, message: "\(error)"))]))
        outbox.post(.status("\(id) stopped: \(error)"))
    }

    /// Shows a run's long phases (gathering, K-means, evaluation) with their timing, a few times a second.
    private func reporter(_ id: String) -> (TrainerPhase) -> Void {
        var clock = PhaseClock(), last = Date.distantPast
        return { [self] p in
            let text = clock.text(p)
            guard Date().timeIntervalSince(last) > 0.2 || p.fraction >= 1 else { return }
            last = Date()
            phased.insert(id)
            outbox.post(.runPhase(id: id, phase: text))
        }
    }

    private func clearPhase(_ id: String) {
        if phased.remove(id) != nil { outbox.post(.runPhase(id: id, phase: nil)) }
    }

    private func addRun(_ s: InitStrategy) {
        let id = Self.uniqueID(s.rawValue, taken: trainers.map(\.id))
        defer { clearPhase(id) }
        let o = options(s, backbone)
        do {
            let writer = try RunLogWriter(path: RunDirectory.path(root: runsDir, session: session, run: id))
            let box = outbox, runID = id
            let layers = max(1, o.prompts.layers(depth: backbone.config.depth))
            let trainer = try PromptTrainer(options: o, backbone: backbone, task: task, runID: id, sessionID: session,
                                            candidates: { [self] report in
                                                if candidates == nil {
                                                    candidates = try Candidates.gather(backbone: backbone, data: task.train, layerCount: layers) { report(.gathering(done: $0, total: $1)) }
                                                }
                                                return candidates!
                                            }, workspaces: workspaces, progress: reporter(id), log: RunLogSink(writer: writer) { box.post(.records(id: runID, [$0])) })
            trainers.append((id, trainer, writer))
        } catch {
            failed(id, step: 0, error)
        }
    }
}

/// Messages from worker threads to the UI loop.
final class Outbox: @unchecked Sendable {
    private var items: [Message] = []
    private let lock = NSLock()
    func post(_ m: Message) { lock.lock(); items.append(m); lock.unlock() }
    func drain() -> [Message] { lock.lock(); defer { lock.unlock() }; let i = items; items = []; return i }
}
