import SPTRuns

/// What arrives at the dashboard's loop.
public enum Message: Sendable {
    case key(Key)
    /// Real seconds since the previous tick.
    case tick(Double)
    /// Records of run `id` (a new id adds the run).
    case records(id: String, [RunRecord])
    /// A replay moved backwards: drop every run's data before the records that follow.
    case resetRuns
    /// A followed log was truncated or replaced: drop run `id`'s data; its records follow anew.
    case resetRun(id: String, reason: String)
    case replayPosition(clock: Double, duration: Double)
    case status(String)
    /// What run `id` is doing before it trains (nil: done); a new id adds the run.
    case runPhase(id: String, phase: String?)
    /// A followed log has not grown for `seconds`: a run still following with no end event is
    /// marked stale (its process may have died; new records make it follow again).
    case quiet(id: String, seconds: Double)
}

/// What `update` asks the program to do; the program turns effects into work and reports back
/// with messages.
public enum Effect: Equatable, Sendable {
    case quit
    case export(smoothing: Double)
    /// For the live engine.
    case engine(EngineCommand)
    /// For a replay.
    case replay(ReplayCommand)
}

/// What the dashboard asks of a live training session (strategies by name: the dashboard does
/// not know the engine).
public enum EngineCommand: Equatable, Sendable {
    case switchStrategy(run: String, strategy: String)
    case addRun(strategy: String)
    case pause(run: String)
    case resume(run: String)
    case restart(run: String)
}

public enum ReplayCommand: Equatable, Sendable {
    case setPaused(Bool)
    case setSpeed(Double)
    case step
    case seek(step: Int)
}

/// The only mutator of the dashboard's state (bubbletea's update).
public func update(_ s: inout DashboardState, _ message: Message) -> [Effect] {
    switch message {
    case .tick(let dt):
        s.elapsed += dt
        return []
    case .records(let id, let records):
        if let i = s.runs.firstIndex(where: { $0.id == id }) {
            if s.runs[i].status == .stale { s.runs[i].status = .following; s.runs[i].message = nil }
            for r in records { s.runs[i].apply(r) }
        } else {
            let status: RunView.Status = switch s.mode { case .live: .waiting; case .replay: .replaying; case .watch: .following }
            var v = RunView(id: id, status: status, smoothing: s.smoothing)
            for r in records { v.apply(r) }
            s.runs.append(v)
        }
        return []
    case .quiet(let id, let seconds):
        if let i = s.runs.firstIndex(where: { $0.id == id }), s.runs[i].status == .following {
            s.runs[i].status = .stale
            s.runs[i].message = "no record for \(Int(seconds)) s and no end event: the process may have died"
        }
        return []
    case .resetRuns:
        s.runs = s.runs.map { RunView(id: $0.id, status: .replaying, smoothing: s.smoothing) }
        return []
    case .resetRun(let id, let reason):
        if let i = s.runs.firstIndex(where: { $0.id == id }) { s.runs[i] = RunView(id: id, status: s.runs[i].status, smoothing: s.smoothing) }
        s.status = "\(id): log \(reason); reading it again from the start"
        return []
    case .replayPosition(let c, let d):
        s.replayClock = c; s.replayDuration = d
        return []
    case .status(let t):
        s.status = t
        return []
    case .runPhase(let id, let phase):
        if !s.runs.contains(where: { $0.id == id }) { s.runs.append(RunView(id: id, status: .waiting, smoothing: s.smoothing)) }
        let i = s.runs.firstIndex { $0.id == id }!
        s.runs[i].phase = phase
        if phase != nil, s.runs[i].status == .waiting { s.runs[i].status = .initializing }
        if phase == nil, s.runs[i].status == .initializing { s.runs[i].status = .waiting }
        return []
    case .key(let k):
        return handleKey(&s, k)
    }
}

private func handleKey(_ s: inout DashboardState, _ k: Key) -> [Effect] {
    if s.confirmQuit {
        s.confirmQuit = false
        if k == .char("y") || k == .char("q") { return [.quit] }
        s.status = "quit cancelled"
        return []
    }
    if s.pickingNewRun {
        s.pickingNewRun = false
        if case .char(let c) = k, let d = c.wholeNumberValue, d >= 1, d <= s.strategies.count {
            s.status = "adding a \(s.strategies[d - 1]) run"
            return [.engine(.addRun(strategy: s.strategies[d - 1]))]
        }
        s.status = "add run cancelled"
        return []
    }
    if s.showHelp && k != .char("?") { s.showHelp = false; if k == .escape { return [] } }
    guard let (binding, reverse) = KeyBinding.lookup(k, mode: s.mode) else { return [] }
    return perform(&s, binding.action, key: k, reverse: reverse)
}

/// `reverse`: the press is one of the binding's back/down keys.
private func perform(_ s: inout DashboardState, _ action: KeyBinding.Action, key k: Key, reverse: Bool) -> [Effect] {
    let focused = s.focusedRun?.id
    switch action {
    case .quit:
        if s.mode == .live && s.trainingCount > 0 {
            s.confirmQuit = true
            s.status = "\(s.trainingCount) run(s) still training — quit? (y/n)"
            return []
        }
        return [.quit]
    case .help: s.showHelp.toggle()
    case .focus:
        guard !s.runs.isEmpty else { return [] }
        s.focus = (s.focus + (reverse ? s.runs.count - 1 : 1)) % s.runs.count
    case .metric:
        let all = s.metrics
        s.metric = all[((all.firstIndex(of: s.metric) ?? -1) + 1) % all.count]
    case .xAxis:
        let all = DashboardState.XAxis.allCases
        s.xAxis = all[(all.firstIndex(of: s.xAxis)! + 1) % all.count]
    case .panel:
        let all = DashboardState.Panel.allCases
        s.panel = all[(all.firstIndex(of: s.panel)! + 1) % all.count]
    case .block:
        let depth = max(1, s.focusedRun?.mapBlocks ?? 1)
        s.mapBlock = (min(s.mapBlock, depth - 1) + (reverse ? depth - 1 : 1)) % depth
        if s.panel != .map && s.panel != .image { s.panel = .map }
    case .prompt:
        // nil (nearest prompt) → 0 → … → the last prompt with attention → nil.
        let map = s.focusedRun?.lastMap, b = s.mapBlock
        let m = map?.imageNearest.flatMap { b < $0.count ? $0[b].count : nil } ?? 0
        let count = m > 0 ? (map?.imageAttention.flatMap { b < $0.count ? $0[b].count / m : nil } ?? 0) : 0
        let positions = count + 1, now = s.imagePrompt.map { $0 + 1 } ?? 0
        let next = (now + (reverse ? positions - 1 : 1)) % positions
        s.imagePrompt = next == 0 ? nil : next - 1
        s.panel = .image
    case .logY: s.logY.toggle()
    case .smoothing:
        let steps = DashboardState.smoothingSteps
        let i = steps.lastIndex { $0 <= s.smoothing + 1e-9 } ?? 0
        s.smoothing = steps[reverse ? max(0, i - 1) : min(steps.count - 1, i + 1)]
        for i in s.runs.indices { s.runs[i].smooth(weight: s.smoothing) }
        s.status = "smoothing \(s.smoothing)"
    case .zoom:
        let steps = DashboardState.zoomSteps
        let i = steps.firstIndex { $0 <= s.zoom + 1e-9 } ?? 0
        s.zoom = steps[reverse ? max(0, i - 1) : min(steps.count - 1, i + 1)]
    case .theme:
        if !s.themes.isEmpty { s.theme = (s.theme + 1) % s.themes.count; s.status = "theme \(s.themes[s.theme])" }
    case .export:
        s.status = "exporting…"
        return [.export(smoothing: s.smoothing)]
    case .addRun:
        s.pickingNewRun = true
        s.status = "add run: strategy " + s.strategies.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: "  ")
    case .pause:
        guard let id = focused, let r = s.focusedRun else { return [] }
        if r.status == .paused { return [.engine(.resume(run: id))] }
        if [.training, .waiting, .following].contains(r.status) { return [.engine(.pause(run: id))] }
    case .restart:
        if let id = focused { s.status = "restarting \(id)"; return [.engine(.restart(run: id))] }
    case .strategy:
        guard case .char(let c) = k, let d = c.wholeNumberValue, d <= s.strategies.count, let id = focused else { return [] }
        let strategy = s.strategies[d - 1]
        s.status = "\(id): switching to \(strategy)"
        return [.engine(.switchStrategy(run: id, strategy: strategy))]
    case .replayPause:
        s.replayPaused.toggle()
        return [.replay(.setPaused(s.replayPaused))]
    case .replaySpeed:
        s.replaySpeed = reverse ? max(1, s.replaySpeed / 2) : min(100, s.replaySpeed * 2)
        return [.replay(.setSpeed(s.replaySpeed))]
    case .replayStep:
        return [.replay(.step)]
    case .replaySeek:
        let maxStep = s.runs.compactMap(\.totalSteps).max() ?? s.runs.map(\.step).max() ?? 0
        let cur = s.runs.map(\.step).max() ?? 0
        let delta = max(1, maxStep / 10)
        return [.replay(.seek(step: max(0, reverse ? cur - delta : cur + delta)))]
    case .replayStart:
        return [.replay(.seek(step: 0))]
    }
    return []
}
