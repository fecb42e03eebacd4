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
    public var imagesPerSecond = 0.0
    // The chart's curves, smoothed with the dashboard's EMA weight; per-block NMI stays raw.
    public var loss: Trace
    public var learningRate: Trace
    public var gradNorm: Trace
    public var trainAccuracy: Trace
    public var evalAccuracy: Trace
    public var evalSplit = "val"
    public var nmi: [Trace] = []
    public var nmiMean: Trace
    public var nmiMode = ""
    /// Curves of `scalar` records by tag, and the tags in the order they appeared.
    public var extras: [String: Trace] = [:]
    public var extraTags: [String] = []
    public var segments: [SegmentRecord] = []
    public var lastInit: InitRecord?
    public var message: String?
    /// What a run that has not trained yet is doing (gathering tokens, K-means …), with its timing.
    public var phase: String?

    public init(id: String, status: Status = .waiting, smoothing: Double = 0) {
        self.id = id; self.status = status
        loss = Trace(weight: smoothing); learningRate = loss; gradNorm = loss; trainAccuracy = loss; evalAccuracy = loss; nmiMean = loss
    }

    public mutating func smooth(weight w: Double) {
        for k in [\RunView.loss, \.learningRate, \.gradNorm, \.trainAccuracy, \.evalAccuracy, \.nmiMean] { self[keyPath: k].smooth(weight: w) }
        for t in extraTags { extras[t]!.smooth(weight: w) }
    }

    public var strategy: String { segments.last?.strategy ?? header?.strategy ?? "?" }
    /// The run's name, with its current strategy when a switch changed it ("kmeans→random").
    public var label: String { strategy == id || segments.isEmpty ? id : "\(id)→\(strategy)" }
    public var totalSteps: Int? {
        guard let h = header, let n = h.params?["train_images"].flatMap(Int.init), h.batch > 0 else { return nil }
        return n / h.batch * h.epochs
    }
    public var bestAccuracy: Double? { evalAccuracy.points.lazy.map(\.value).max() }

    /// The record's values (`RunRecord.points`, as CSV export reads them) onto their curves.
    private mutating func add(_ points: [(metric: Metric, point: SeriesPoint)]) {
        for (metric, p) in points {
            switch metric {
            case .trainLoss: loss.append(p)
            case .learningRate: learningRate.append(p)
            case .gradNorm: gradNorm.append(p)
            case .throughput: imagesPerSecond = p.value
            case .loss: break  // eval loss: exported, not charted
            case .accuracy(let split):
                if split == "train" { trainAccuracy.append(p) } else { evalSplit = split; evalAccuracy.append(p) }
            case .nmi(let b):
                if nmi.count <= b { nmi += Array(repeating: Trace(), count: b + 1 - nmi.count) }
                nmi[b].append(p)
            case .nmiMean: nmiMean.append(p)
            case .scalar(let tag):
                if extras[tag] == nil { extras[tag] = Trace(weight: loss.weight); extraTags.append(tag) }
                extras[tag]!.append(p)
            }
        }
    }

    /// Takes one record of the run.
    public mutating func apply(_ r: RunRecord) {
        switch r {
        case .header(let h):
            header = h
        case .train(let t):
            step = t.step; epoch = t.epoch; time = t.time
            if status == .waiting || status == .initializing { status = .training; phase = nil }
            add(r.points)
        case .eval, .scalar:
            add(r.points)
        case .nmi(let n):
            nmiMode = "\(n.mode), \(n.normalization)"
            add(r.points)
        case .initialization(let i):
            lastInit = i
        case .segment(let s):
            segments.append(s)
        case .event(let e):
            switch e.kind {
            case .pause: status = .paused
            case .resume: status = .training
            case .finished: status = .finished
            case .stopped: status = .stopped
            case .diverged: status = .diverged; message = e.message
            case .error: status = .error; message = e.message
            case .other: break  // an event another writer knows: kept in the log, not shown
            }
        }
    }
}
