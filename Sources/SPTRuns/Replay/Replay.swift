/// Re-emits the records of several run logs on a virtual clock: real time, ×N speed, pause,
/// step and seek. Pure: the caller advances it with the real seconds that passed, so tests need
/// no sleeping. Records without a time (header, init) are released with the record before them.
public struct Replay: Sendable {
    public struct Item: Equatable, Sendable {
        public let run: Int
        public let record: RunRecord
    }

    /// The result of a move: `reset` means the consumer must drop what it had and take `items`
    /// as the full state (a backward seek).
    public struct Emission: Equatable, Sendable {
        public var reset = false
        public var items: [Item] = []
    }

    private let runs: [[(time: Double, record: RunRecord)]]
    public private(set) var cursors: [Int]
    /// Seconds of the original runs' wall time that have been replayed.
    public private(set) var clock: Double = 0
    public var speed: Double = 1
    public var paused = false

    public init(logs: [RunLog]) {
        runs = logs.map { log in
            var t = 0.0
            return log.records.map { r in
                t = max(t, r.time ?? t)
                return (t, r)
            }
        }
        cursors = Array(repeating: 0, count: logs.count)
    }

    public var duration: Double { runs.compactMap { $0.last?.time }.max() ?? 0 }
    public var finished: Bool { zip(runs, cursors).allSatisfy { $0.count == $1 } }
    /// The largest step released so far in any run.
    public var currentStep: Int {
        zip(runs, cursors).map { run, c in c > 0 ? run[c - 1].record.step : 0 }.max() ?? 0
    }

    /// Moves the clock by `seconds × speed` (nothing while paused) and releases what is due.
    public mutating func advance(realSeconds: Double) -> Emission {
        guard !paused else { return Emission() }
        clock = min(clock + realSeconds * speed, max(clock, duration))
        let c = clock
        return release { item, _ in item.time <= c }
    }

    /// Releases everything up to the next step at which any run has a record.
    public mutating func stepForward() -> Emission {
        let next = zip(runs, cursors).compactMap { run, c in c < run.count ? run[c].record.step : nil }.min()
        guard let next else { return Emission() }
        return seek(step: next)
    }

    /// Shows every record with step ≤ `step` (and the header); a backward seek resets.
    public mutating func seek(step: Int) -> Emission {
        var e = Emission()
        if step < currentStep {
            cursors = Array(repeating: 0, count: runs.count)
            e.reset = true
        }
        let more = release { item, _ in item.record.step <= step }
        e.items = more.items
        clock = zip(runs, cursors).map { run, c in c > 0 ? run[c - 1].time : 0 }.max() ?? 0
        return e
    }

    private mutating func release(while due: ((time: Double, record: RunRecord), Int) -> Bool) -> Emission {
        var e = Emission()
        for r in runs.indices {
            while cursors[r] < runs[r].count, due(runs[r][cursors[r]], r) {
                e.items.append(Item(run: r, record: runs[r][cursors[r]].record))
                cursors[r] += 1
            }
        }
        return e
    }
}
