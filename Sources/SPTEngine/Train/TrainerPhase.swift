import Foundation

/// A long phase of a run outside its training steps, for progress displays.
public enum TrainerPhase: Sendable, Equatable, CustomStringConvertible {
    case gathering(done: Int, total: Int)
    case clustering(layer: Int, layers: Int)
    case evaluating(split: String, done: Int, total: Int)
    case embedding(done: Int, total: Int)

    public var description: String {
        switch self {
        case .gathering(let d, let t): "gathering tokens: \(d)/\(t) images"
        case .clustering(let l, let n): "K-means: layer \(l + 1)/\(n)"
        case .evaluating(let s, let d, let t): "evaluating on \(s): \(d)/\(t) images"
        case .embedding(let d, let t): "embedding: \(d)/\(t) images"
        }
    }

    /// How far the phase is, in [0, 1].
    public var fraction: Double {
        switch self {
        case .gathering(let d, let t), .evaluating(_, let d, let t), .embedding(let d, let t): t > 0 ? Double(d) / Double(t) : 1
        case .clustering(let l, let n): n > 0 ? Double(l) / Double(n) : 1
        }
    }

    /// Whether `other` is the same phase further on (an ETA carries over).
    public func sameKind(as other: TrainerPhase) -> Bool {
        switch (self, other) {
        case (.gathering, .gathering), (.clustering, .clustering), (.embedding, .embedding): true
        case (.evaluating(let a, _, _), .evaluating(let b, _, _)): a == b
        default: false
        }
    }
}

/// Times the phases a trainer reports: each phase's text with the time spent in it and an
/// estimate of the time left ("gathering tokens: 320/1000 images · 0:42 · ETA 1:30").
public struct PhaseClock: Sendable {
    private var current: TrainerPhase?
    private var started = Date()
    public init() {}

    /// Whether the last phase given to `text` began a new phase.
    public private(set) var phaseChanged = false

    public mutating func text(_ p: TrainerPhase, now: Date = Date()) -> String {
        phaseChanged = current.map { !$0.sameKind(as: p) } ?? true
        if phaseChanged { started = now }
        current = p
        let elapsed = now.timeIntervalSince(started)
        let eta = p.fraction > 0 ? elapsed * (1 - p.fraction) / p.fraction : .nan
        return "\(p) · \(Self.duration(elapsed)) · ETA \(Self.duration(eta))"
    }

    /// m:ss or h:mm:ss.
    public static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
