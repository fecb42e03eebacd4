import SPTRuns

/// What the dashboard knows of one run, built from its records as they arrive.
public struct RunView: Sendable {
    public enum Status: String, Sendable { case waiting, initializing, training, paused, finished, stopped, diverged, error, replaying, following, stale }

    public var id: String
    public var header: RunHeader?
    public var status: Status
    public var step = 0
    public var epoch = 0.0
    public var time = 0.0
    /// The run's curves, keyed as `RunRecord.points` names them (CSV export reads the same), in the
    /// order their first values arrived; smoothed with the dashboard's EMA weight except per-block NMI.
    public private(set) var traces: [Metric: Trace] = [:]
    public private(set) var metrics: [Metric] = []
    /// The split the run evaluates on (the last non-train split of its accuracy records).
    public private(set) var evalSplit = "val"
    public var nmiMode = ""
    public var segments: [SegmentRecord] = []
    public var lastInit: InitRecord?
    /// The prompt map's plane, its first map since the last initialization (where the prompts
    /// started) and its latest.
    public var projection: ProjectionRecord?
    public var firstMap: MapRecord?
    public var lastMap: MapRecord?
    public var mapBlocks: Int { lastMap?.prompts.count ?? 0 }
    public var message: String?
    /// What a run that has not trained yet is doing (gathering tokens, K-means …), with its timing.
    public var phase: String?

    private var smoothing: Double

    public init(id: String, status: Status = .waiting, smoothing: Double = 0) {
        self.id = id; self.status = status; self.smoothing = smoothing
    }

    public mutating func smooth(weight w: Double) {
        smoothing = w
        for m in metrics where m.block == nil { traces[m]!.smooth(weight: w) }
    }

    /// The curve of a metric (empty when the run has none).
    public subscript(_ m: Metric) -> Trace { traces[m] ?? Trace() }
    public var evalAccuracy: Trace { self[.accuracy(split: evalSplit)] }
    /// The per-block curves of one kind — `.nmi(block:)` or `.attention(from:block:)` — in block order.
    public func perBlock(_ metric: (Int) -> Metric) -> [Trace] {
        var out: [Trace] = []
        while let t = traces[metric(out.count)] { out.append(t) }
        return out
    }
    /// How many blocks the run's NMI records cover.
    public var nmiBlocks: Int { perBlock { .nmi(block: $0) }.count }
    /// The prompts' attention share per block: from the class token where the backbone has one,
    /// else from the patch tokens; and which.
    public var attentionPerBlock: (from: String, traces: [Trace]) {
        let cls = perBlock { .attention(from: "cls", block: $0) }
        return cls.isEmpty ? ("patches", perBlock { .attention(from: "patches", block: $0) }) : ("cls", cls)
    }
    public var imagesPerSecond: Double { traces[.throughput]?.last?.value ?? 0 }

    public var strategy: String { segments.last?.strategy ?? header?.strategy ?? "?" }
    /// The run's name, with its current strategy when a switch changed it ("kmeans→random").
    public var label: String { strategy == id || segments.isEmpty ? id : "\(id)→\(strategy)" }
    public var totalSteps: Int? {
        guard let h = header, let n = h[param: .trainImages].flatMap(Int.init), h.batch > 0 else { return nil }
        return n / h.batch * h.epochs
    }
    public var bestAccuracy: Double? { evalAccuracy.points.lazy.map(\.value).max() }

    /// The record's values (`RunRecord.points`, as CSV export reads them) onto their curves.
    private mutating func add(_ points: [(metric: Metric, point: SeriesPoint)]) {
        for (metric, p) in points {
            if traces[metric] == nil {
                traces[metric] = Trace(weight: metric.block == nil ? smoothing : 0)
                metrics.append(metric)
            }
            traces[metric]!.append(p)
            if case .accuracy(let split) = metric, split != "train" { evalSplit = split }
        }
    }

    /// Takes one record of the run.
    public mutating func apply(_ r: RunRecord) {
        add(r.points)
        switch r {
        case .header(let h):
            header = h
        case .train(let t):
            step = t.step; epoch = t.epoch; time = t.time
            if status == .waiting || status == .initializing { status = .training; phase = nil }
        case .eval, .attention, .scalar:
            break
        case .projection(let p):
            projection = p
        case .map(let m):
            if firstMap == nil { firstMap = m }
            lastMap = m
        case .nmi(let n):
            nmiMode = "\(n.mode), \(n.normalization)"
        case .initialization(let i):
            lastInit = i
            firstMap = nil
        case .segment(let s):
            segments.append(s)
        case .event(let e):
            switch e.kind {
            case .pause: status = .paused
            case .resume: status = .training
            case .restored: message = nil  // the same run goes on from its checkpoint
            case .finished: status = .finished
            case .stopped: status = .stopped
            case .diverged: status = .diverged; message = e.message
            case .error: status = .error; message = e.message
            case .other: break  // an event another writer knows: kept in the log, not shown
            }
        }
    }
}
