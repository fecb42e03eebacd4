import Foundation

/// How often a run probes NMI, attention and the prompt map: every N steps (0: never), or `auto` —
/// the smallest multiple of 5 steps at which the probe costs at most 5% of training time, from the
/// probe and a training step timed on this run's model before it starts (docs/METHOD.md §4.5). The
/// probe runs the whole probe batch forward in fp32, so its cost relative to a step grows with the
/// model and under bf16 training; `auto` keeps it bounded where a fixed cadence cannot.
public enum NMICadence: Equatable, Sendable, Codable, LosslessStringConvertible {
    case auto
    case every(Int)

    public static let budget = 0.05
    public static let multiple = 5

    public init?(_ text: String) {
        if text == "auto" { self = .auto } else if let n = Int(text) { self = .every(n) } else { return nil }
    }

    public var description: String {
        switch self { case .auto: "auto"; case .every(let n): String(n) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .every(n); return }
        guard let s = NMICadence(try c.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "nmi_every: auto or a step count")
        }
        self = s
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case .auto: try c.encode("auto"); case .every(let n): try c.encode(n) }
    }

    /// The cadence for a probe taking `probeSeconds` beside training steps of `stepSeconds`.
    public static func steps(probeSeconds: Double, stepSeconds: Double) -> Int {
        let ratio = probeSeconds / max(stepSeconds, 1e-9)
        return multiple * max(1, Int((ratio / (Double(multiple) * budget)).rounded(.up)))
    }

    /// What `auto` resolved to, and the timings it came from.
    public struct Resolution: Sendable {
        public let steps: Int, probeSeconds: Double, stepSeconds: Double
        /// The header's `nmi_cadence` text.
        public var summary: String {
            String(format: "auto: probe %.3g s, step %.3g s, %.1f%% of training time", probeSeconds, stepSeconds,
                   100 * probeSeconds / (Double(steps) * stepSeconds))
        }
    }

    /// Resolutions already measured in this process, by what the timings depend on: the runs of
    /// one comparison or dashboard session share a model shape, so they share one cadence (their
    /// probes stay at the same steps) and the timing runs once.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var resolved: [String: Resolution] = [:]

    /// `auto` for `model`: a probe of `probe` (B images; with a prompt map when `maps`, its plane
    /// computed in the warm-up, as a run's probes reuse theirs) and a forward and backward of
    /// `input` (a training batch with `labels`), each run once to warm up and then timed twice (the
    /// faster kept). Gradients are zeroed afterwards; parameters and optimizer are untouched.
    static func resolve(_ model: ViTClassifier, key: String, probe: UnsafeMutablePointer<Float>, B: Int, mode: NMI.Mode, normalization: NMI.Normalization,
                        maps: Bool, input: UnsafeMutablePointer<Float>, batch: Int, labels: [Int32]) -> Resolution {
        lock.lock()
        defer { lock.unlock() }
        if let r = resolved[key] { return r }
        func timed(_ body: () -> Void) -> Double {
            (0..<2).map { _ in let t = Date(); body(); return Date().timeIntervalSince(t) }.min()!
        }
        let plane = PromptProbe.measure(model, images: probe, B: B, mode: mode, normalization: normalization, map: maps ? ProjectionBasis() : nil).basis
        let probeSeconds = timed { _ = PromptProbe.measure(model, images: probe, B: B, mode: mode, normalization: normalization, map: plane) }
        var rng = RNG(seed: 0)
        let step = {
            _ = model.forward(images: input, B: batch, labels: labels, training: true, rng: &rng)
            model.zeroGrads()
            model.backward(labels: labels)
        }
        step()
        let stepSeconds = timed(step)
        model.zeroGrads()
        let r = Resolution(steps: steps(probeSeconds: probeSeconds, stepSeconds: stepSeconds), probeSeconds: probeSeconds, stepSeconds: stepSeconds)
        resolved[key] = r
        return r
    }
}
