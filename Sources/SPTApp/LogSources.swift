import Foundation
import SPTDashboard
import SPTRuns

/// Replays saved logs on the dashboard's clock.
public final class ReplaySource: RunSource {
    public let files: [String]
    private var replay: Replay
    private let ids: [String]

    public init(path: String, speed: Double) throws {
        files = try RunDirectory.logFiles(at: path)
        guard !files.isEmpty else { throw RunLogError.io(path: path, message: "no run logs here (.jsonl files, TensorBoard event directories or W&B run files)") }
        let logs = try files.map { try RunDirectory.read($0) }
        ids = RunDirectory.distinctNames(logs.map(\.runName), paths: files)
        replay = Replay(logs: logs)
        replay.speed = speed
        issues = zip(files, logs).flatMap { f, l in l.issues.map { "\(f): \($0)" } }
    }

    public let issues: [String]

    private func messages(_ e: Replay.Emission) -> [Message] {
        var out: [Message] = e.reset ? [.resetRuns] : []
        var grouped: [Int: [RunRecord]] = [:]
        for item in e.items { grouped[item.run, default: []].append(item.record) }
        for run in grouped.keys.sorted() { out.append(.records(id: ids[run], grouped[run]!)) }
        return out
    }

    /// Records due after `dt` more real seconds, and the position.
    public func poll(_ dt: Double) -> [Message] {
        messages(replay.advance(realSeconds: dt)) + [.replayPosition(clock: replay.clock, duration: replay.duration)]
    }

    public func perform(_ c: ReplayCommand) -> [Message] {
        switch c {
        case .setPaused(let p): replay.paused = p; return []
        case .setSpeed(let s): replay.speed = s; return []
        case .step: return messages(replay.stepForward())
        case .seek(let step): return messages(replay.seek(step: step))
        }
    }

    public func perform(_ command: EngineCommand) -> [Message] { [.status("a replay cannot change its runs")] }
    public func close() {}
}

/// Follows every run log under a directory, including files that appear later.
public final class WatchSource: RunSource {
    public let directory: String
    private var readers: [String: (id: String, reader: any RunLogFollower)] = [:]
    private var sinceScan = 1.0
    /// Seconds since each log last grew, and the logs already reported quiet.
    private var quiet: [String: Double] = [:]
    private var reportedQuiet: Set<String> = []
    /// A log quiet this long is reported (`Message.quiet`): the dashboard marks a run that has not
    /// ended stale, since a killed writer (SIGKILL, a lost node) cannot write its end.
    public let staleAfter: Double

    public init(directory: String, staleAfter: Double = 120) { self.directory = directory; self.staleAfter = staleAfter }

    /// Run keys on a watched run go to its control channel; the process that trains it (e.g.
    /// `spt_torch`) obeys between steps, and its log shows the result.
    public func perform(_ command: EngineCommand) -> [Message] {
        let c: ControlChannel.Command, id: String
        switch command {
        case .switchStrategy(let run, let s): (c, id) = (.switchStrategy(s), run)
        case .pause(let run): (c, id) = (.pause, run)
        case .resume(let run): (c, id) = (.resume, run)
        case .restart(let run): (c, id) = (.restart, run)
        case .addRun: return [.status("a watched session's runs are started by the process that trains them")]
        }
        guard let path = readers.first(where: { $0.value.id == id })?.key else { return [.status("\(id): no such run")] }
        do {
            try ControlChannel.send(c, toLog: path)
            return [.status("\(id): sent \(c) to \((ControlChannel.path(forLog: path) as NSString).lastPathComponent)")]
        } catch {
            return [.status("\(error)")]
        }
    }
    public func perform(_ command: ReplayCommand) -> [Message] { [.status("nothing to replay while watching")] }
    public func close() {}

    public func poll(_ dt: Double) -> [Message] {
        sinceScan += dt
        if sinceScan >= 0.5 {
            sinceScan = 0
            for f in (try? RunDirectory.logFiles(at: directory)) ?? [] where readers[f] == nil {
                readers[f] = (RunDirectory.distinctName(for: f, taken: Set(readers.values.map(\.id))), RunDirectory.follower(f))
                // A log found already quiet (its writer killed before this dashboard started) counts from its last change.
                let modified = (try? FileManager.default.attributesOfItem(atPath: f)[.modificationDate] as? Date) ?? nil
                quiet[f] = modified.map { max(0, Date().timeIntervalSince($0)) } ?? 0
            }
        }
        var out: [Message] = []
        for (path, r) in readers.sorted(by: { $0.key < $1.key }) {
            do {
                let (change, recs) = try r.reader.follow()
                if case .restarted(let reason) = change { out.append(.resetRun(id: r.id, reason: reason)) }
                if !recs.isEmpty { out.append(.records(id: r.id, recs)); quiet[path] = 0; reportedQuiet.remove(path) } else { quiet[path, default: 0] += dt }
                if quiet[path]! >= staleAfter && !reportedQuiet.contains(path) {
                    reportedQuiet.insert(path)
                    out.append(.quiet(id: r.id, seconds: quiet[path]!))
                }
            } catch {
                // Deleted and not yet recreated: keep what was shown and look again next time.
                if FileManager.default.fileExists(atPath: path) { out.append(.status("\(error)")) }
            }
        }
        return out
    }
}
