import Foundation
import SPTDashboard
import SPTRuns

/// Replays saved logs on the dashboard's clock.
final class ReplaySource {
    let files: [String]
    private var replay: Replay
    private let ids: [String]

    init(path: String, speed: Double) throws {
        files = try RunDirectory.logFiles(at: path)
        guard !files.isEmpty else { throw RunLogError.io(path: path, message: "no .jsonl run logs here") }
        let logs = try files.map { try RunLogReader.read($0) }
        ids = RunDirectory.distinctNames(logs.map(\.runName), paths: files)
        replay = Replay(logs: logs)
        replay.speed = speed
        issues = zip(files, logs).flatMap { f, l in l.issues.map { "\(f): \($0)" } }
    }

    let issues: [String]

    /// Messages for `dt` real seconds, after applying any replay commands.
    func advance(_ dt: Double, commands: [ReplayCommand]) -> [Message] {
        var out: [Message] = []
        func take(_ e: Replay.Emission) {
            if e.reset { out.append(.resetRuns) }
            var grouped: [Int: [RunRecord]] = [:]
            for item in e.items { grouped[item.run, default: []].append(item.record) }
            for run in grouped.keys.sorted() { out.append(.records(id: ids[run], grouped[run]!)) }
        }
        for c in commands {
            switch c {
            case .setPaused(let p): replay.paused = p
            case .setSpeed(let s): replay.speed = s
            case .step: take(replay.stepForward())
            case .seek(let step): take(replay.seek(step: step))
            }
        }
        take(replay.advance(realSeconds: dt))
        out.append(.replayPosition(clock: replay.clock, duration: replay.duration))
        return out
    }
}

/// Follows every run log under a directory, including files that appear later.
final class WatchSource {
    let directory: String
    private var readers: [String: (id: String, reader: RunLogReader)] = [:]
    private var sinceScan = 1.0

    init(directory: String) { self.directory = directory }

    func poll(_ dt: Double) -> [Message] {
        sinceScan += dt
        if sinceScan >= 0.5 {
            sinceScan = 0
            for f in (try? RunDirectory.logFiles(at: directory)) ?? [] where readers[f] == nil {
                readers[f] = (RunDirectory.distinctName(for: f, taken: Set(readers.values.map(\.id))), RunLogReader(path: f))
            }
        }
        var out: [Message] = []
        for (path, r) in readers.sorted(by: { $0.key < $1.key }) {
            do {
                let (change, recs) = try r.reader.follow()
                if case .restarted(let reason) = change { out.append(.resetRun(id: r.id, reason: reason)) }
                if !recs.isEmpty { out.append(.records(id: r.id, recs)) }
            } catch {
                // Deleted and not yet recreated: keep what was shown and look again next time.
                if FileManager.default.fileExists(atPath: path) { out.append(.status("\(error)")) }
            }
        }
        return out
    }
}
