import SPTRuns

/// Everything the dashboard shows. Only `update` changes it.
public struct DashboardState: Sendable {
    public enum Mode: String, Sendable { case live, replay, watch }
    /// What `m` cycles through: train loss, accuracy on each evaluation split the runs have (val
    /// until one arrives), train accuracy, NMI mean, the prompts' attention share and their
    /// distance to the nearest patch token (means over blocks) where the runs have them, lr, gradient norm, then every `scalar` tag the runs have, in
    /// the order they appeared.
    public var metrics: [Metric] {
        var splits: [String] = [], attention: [Metric] = [], scalars: [Metric] = []
        for r in runs {
            for m in r.metrics {
                switch m {
                case .accuracy(let split) where split != "train" && !splits.contains(split): splits.append(split)
                case .attention(_, nil) where !attention.contains(m), .nearest(nil) where !attention.contains(m): attention.append(m)
                case .scalar where !scalars.contains(m): scalars.append(m)
                default: break
                }
            }
        }
        return [.trainLoss] + (splits.isEmpty ? ["val"] : splits).map { .accuracy(split: $0) }
            + [.accuracy(split: "train"), .nmiMean] + attention + [.learningRate, .gradNorm] + scalars
    }
    public enum XAxis: String, CaseIterable, Sendable { case step, epoch, time }
    /// What the panel below the runs table shows for the focused run (`v`): NMI per block, the
    /// prompts' attention share per block, the prompt map of one block (`<`/`>`), or the probe
    /// image with that block's nearest-prompt or one prompt's attention overlay (`(`/`)`).
    public enum Panel: String, CaseIterable, Sendable { case nmi, attention, map, image }

    public var mode: Mode
    public var task: String
    public var backbone: String
    /// The file or directory a replay or watch reads (shown in the header).
    public var source = ""
    public var runs: [RunView] = []
    public var focus = 0
    public var metric = Metric.trainLoss
    public var xAxis = XAxis.step
    public var panel = Panel.nmi
    /// The block the prompt map and the image view show.
    public var mapBlock = 0
    /// The prompt whose attention the image view shows (nil: the nearest-prompt overlay).
    public var imagePrompt: Int?
    /// Whether the image view may draw literal colours (256 colours or more, colour allowed).
    public var imageColors = true
    /// TensorBoard EMA weight applied to drawn curves (and to exports).
    public var smoothing = 0.6
    public var logY = false
    public var zoom = 1.0
    public var themes: [String]
    public var theme = 0
    public var showHelp = false
    public var confirmQuit = false
    /// Waiting for a strategy digit after `a` (add run).
    public var pickingNewRun = false
    public var status = ""
    public var elapsed = 0.0
    public var ascii = false
    public var replaySpeed = 1.0
    public var replayPaused = false
    public var replayClock = 0.0
    public var replayDuration = 0.0
    /// The strategies keys 1…5 choose, in order.
    public var strategies: [String]

    public init(mode: Mode, task: String, backbone: String, themes: [String], strategies: [String]) {
        self.mode = mode; self.task = task; self.backbone = backbone; self.themes = themes; self.strategies = strategies
    }

    /// Live runs that have not ended: training, initializing or waiting for their turn.
    public var trainingCount: Int { runs.filter { [.training, .initializing, .waiting].contains($0.status) }.count }

    /// The runs per state, in a fixed order, leaving out states no run is in ("1 training · 4 initializing").
    public var statusCounts: String {
        let order: [RunView.Status] = [.training, .initializing, .waiting, .paused, .finished, .stopped, .diverged, .error]
        return order.compactMap { st in
            let n = runs.filter { $0.status == st }.count
            return n > 0 ? "\(n) \(st.rawValue)" : nil
        }.joined(separator: " · ")
    }
    public var focusedRun: RunView? { runs.indices.contains(focus) ? runs[focus] : nil }

    public static let smoothingSteps = [0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99]
    public static let zoomSteps = [1.0, 0.5, 0.25, 0.1]
}
