import Foundation
import Testing
@testable import SPTDashboard
import SPTRuns

@Suite struct UpdateTests {
    func liveState() -> DashboardState {
        var s = DashboardState(mode: .live, task: "fashion-mnist", backbone: "mae-tiny", themes: ["dark", "light"],
                               strategies: ["random", "kmeans", "mean-pool", "max-pool", "sample"])
        _ = update(&s, .records(id: "random", records("random", strategy: "random")))
        _ = update(&s, .records(id: "kmeans", records("kmeans", strategy: "kmeans", scale: 0.5)))
        return s
    }

    @Test func recordsBuildRunsAndTicksAdvanceTheClock() {
        var s = liveState()
        #expect(s.runs.map(\.id) == ["random", "kmeans"])
        #expect(s.runs[0].step == 20 && s.runs[0].totalSteps == 20)
        #expect(s.runs[1].nmiBlocks == 3 && s.runs[1].evalAccuracy.points.count == 2)
        _ = update(&s, .tick(0.25)); _ = update(&s, .tick(0.5))
        #expect(s.elapsed == 0.75)
    }

    @Test func focusMetricAxisSmoothingZoomTheme() {
        var s = liveState()
        _ = update(&s, .key(.tab)); #expect(s.focus == 1)
        _ = update(&s, .key(.tab)); #expect(s.focus == 0)
        _ = update(&s, .key(.char("k"))); #expect(s.focus == 1)
        _ = update(&s, .key(.char("m"))); #expect(s.metric == .accuracy(split: "val"))
        _ = update(&s, .key(.char("x"))); #expect(s.xAxis == .epoch)
        _ = update(&s, .key(.char("S"))); #expect(s.smoothing == 0.8)
        _ = update(&s, .key(.char("s"))); _ = update(&s, .key(.char("s"))); #expect(s.smoothing == 0.3)
        #expect(s.runs.allSatisfy { r in r[.trainLoss].weight == 0.3 && (0..<r.nmiBlocks).allSatisfy { r[.nmi(block: $0)].weight == 0 } })
        let raw = s.runs[0][.trainLoss].points.map(\.value)
        #expect(s.runs[0][.trainLoss].buckets.map(\.last.value) == Smoothing.ema(raw, weight: 0.3))
        _ = update(&s, .key(.char("+"))); #expect(s.zoom == 0.5)
        _ = update(&s, .key(.char("L"))); #expect(s.logY)
        _ = update(&s, .key(.char("t"))); #expect(s.theme == 1)
    }

    @Test func extraMetricsJoinTheMetricCycle() {
        var s = liveState()
        let scalars = (1...3).map { RunRecord.scalar(ScalarRecord(step: $0, time: Double($0), tag: "gpu/memory", value: Double($0))) }
        _ = update(&s, .records(id: "kmeans", scalars))
        let builtIn: [Metric] = [.trainLoss, .accuracy(split: "val"), .accuracy(split: "train"), .nmiMean, .learningRate, .gradNorm]
        #expect(s.metrics == builtIn + [.scalar("gpu/memory")])
        for _ in builtIn { _ = update(&s, .key(.char("m"))) }
        #expect(s.metric == .scalar("gpu/memory"))
        let chart = chartSeries(s)
        #expect(chart[1].points.count == 3 && chart[0].points.isEmpty)
        #expect(s.runs[1][.scalar("gpu/memory")].points.map(\.value) == [1, 2, 3])
        _ = update(&s, .key(.char("x")))  // epoch: scalars carry none, so nothing is drawn rather than NaN
        #expect(chartSeries(s)[1].points.isEmpty)
        _ = update(&s, .key(.char("m"))); #expect(s.metric == .trainLoss)
    }

    @Test func strategyKeysAndRunControlsBecomeEffects() {
        var s = liveState()
        _ = update(&s, .key(.tab))
        #expect(update(&s, .key(.char("1"))) == [.engine(.switchStrategy(run: "kmeans", strategy: "random"))])
        #expect(update(&s, .key(.char("a"))).isEmpty && s.pickingNewRun)
        #expect(update(&s, .key(.char("5"))) == [.engine(.addRun(strategy: "sample"))])
        #expect(update(&s, .key(.char("p"))) == [.engine(.pause(run: "kmeans"))])
        #expect(update(&s, .key(.char("r"))) == [.engine(.restart(run: "kmeans"))])
        #expect(update(&s, .key(.char("e"))) == [.export(smoothing: 0.6)])
    }

    @Test func quitAsksWhileRunsTrain() {
        var s = liveState()
        _ = update(&s, .records(id: "sample", [.header(header("sample", strategy: "sample"))]))
        #expect(s.trainingCount == 3)
        #expect(update(&s, .key(.char("q"))).isEmpty && s.confirmQuit)
        #expect(update(&s, .key(.char("n"))).isEmpty && !s.confirmQuit)
        _ = update(&s, .key(.char("q")))
        #expect(update(&s, .key(.char("y"))) == [.quit])
    }

    /// Live runs show what they do before their first step, and the title counts them truly.
    @Test func phasesBeforeTheFirstStep() {
        var s = DashboardState(mode: .live, task: "t", backbone: "b", themes: [], strategies: ["random", "kmeans"])
        _ = update(&s, .runPhase(id: "random", phase: nil))
        _ = update(&s, .runPhase(id: "kmeans", phase: nil))
        #expect(s.statusCounts == "2 waiting")
        _ = update(&s, .runPhase(id: "kmeans", phase: "gathering tokens: 64/800 images · 0:03 · ETA 0:35"))
        #expect(s.statusCounts == "1 initializing · 1 waiting")
        let frame = view(s, width: 140, height: 30).lines.joined(separator: "\n")
        #expect(frame.contains("1 initializing · 1 waiting") && frame.contains("initializing   gathering tokens: 64/800 images"), "\(frame)")
        _ = update(&s, .runPhase(id: "kmeans", phase: nil))
        _ = update(&s, .records(id: "kmeans", records("kmeans", strategy: "kmeans")))
        #expect(s.statusCounts == "1 training · 1 waiting" && s.runs[1].phase == nil)
    }

    /// A run's state before its log says otherwise tells where it comes from.
    @Test func newRunsStartInTheirSourcesState() {
        for (mode, status) in [(DashboardState.Mode.live, RunView.Status.waiting), (.replay, .replaying), (.watch, .following)] {
            var s = DashboardState(mode: mode, task: "t", backbone: "b", themes: [], strategies: ["random"])
            _ = update(&s, .records(id: "r", []))
            #expect(s.runs.map(\.status) == [status])
        }
    }

    @Test func replayKeys() {
        var s = DashboardState(mode: .replay, task: "t", backbone: "b", themes: [], strategies: ["random"])
        _ = update(&s, .records(id: "r", records("r", strategy: "random")))
        #expect(update(&s, .key(.char("p"))) == [.replay(.setPaused(true))])
        #expect(update(&s, .key(.char("]"))) == [.replay(.setSpeed(2))])
        #expect(update(&s, .key(.char("."))) == [.replay(.step)])
        #expect(update(&s, .key(.char("{"))) == [.replay(.seek(step: 18))])
        #expect(update(&s, .key(.char("q"))) == [.quit])
        _ = update(&s, .resetRuns)
        #expect(s.runs.count == 1 && s.runs[0][.trainLoss].isEmpty)
    }

    @Test func aRestartedLogDropsOnlyThatRunAndSaysSo() {
        var s = DashboardState(mode: .watch, task: "", backbone: "", themes: [], strategies: [])
        _ = update(&s, .records(id: "a", records("a", strategy: "random")))
        _ = update(&s, .records(id: "b", records("b", strategy: "kmeans")))
        _ = update(&s, .resetRun(id: "a", reason: "truncated"))
        #expect(s.runs.map(\.id) == ["a", "b"] && s.runs[0][.trainLoss].isEmpty && !s.runs[1][.trainLoss].isEmpty)
        #expect(s.runs[0].status == .following && s.status.contains("a: log truncated"))
    }
}

@Suite struct ScreenTests {
    func state() -> DashboardState {
        var s = DashboardState(mode: .live, task: "fashion-mnist", backbone: "mae-tiny", themes: ["dark"],
                               strategies: ["random", "kmeans", "mean-pool", "max-pool", "sample"])
        _ = update(&s, .records(id: "random", records("random", strategy: "random")))
        _ = update(&s, .records(id: "kmeans", records("kmeans", strategy: "kmeans", scale: 0.5)))
        _ = update(&s, .records(id: "kmeans", [.segment(SegmentRecord(step: 20, time: 10, strategy: "sample", reason: "key"))]))
        _ = update(&s, .tick(83))
        return s
    }

    @Test func fullScreen100x30() throws {
        try expectSnapshot(render(view(state(), width: 100, height: 30)), "screen-100x30")
    }

    /// The NMI panel shows the last initialization's diversity: beside each block for deep prompts
    /// (here the focused run), in the title for a shallow run's one set.
    @Test func initDiversityInTheNMIPanel() throws {
        var s = state()
        _ = update(&s, .records(id: "random", [.initialization(InitRecord(step: 0, strategy: "random", seconds: 0, cosine: [0.01, -0.02, 0.03],
                                                                        effectiveRank: [9.9, 9.8, 9.9], nearest: [0.38, 0.78, 12.5]))]))
        try expectSnapshot(render(view(s, width: 100, height: 30)), "screen-init-deep")
        _ = update(&s, .records(id: "random", [.initialization(InitRecord(step: 20, strategy: "random", seconds: 0, cosine: [0.92],
                                                                        effectiveRank: [1.4], nearest: [2.63]))]))
        try expectSnapshot(render(view(s, width: 100, height: 30)), "screen-init-shallow")
    }

    /// `v` turns the panel to the prompts' attention share per block (from CLS where the run has
    /// it), `m` reaches its mean over blocks, and `v` again is back at NMI.
    @Test func attentionPanelAndMetric() throws {
        var s = state()
        let attention = (0...2).map { i -> RunRecord in
            let x = Double(i)
            let cls: [Double] = [0.2 + 0.1 * x, 0.05, 1e-3 * x], patches: [Double] = [0.1, 0.02 * x, 0.01]
            return .attention(AttentionRecord(step: 10 * i, epoch: x, time: 5 * x, cls: cls, patches: patches))
        }
        _ = update(&s, .records(id: "random", attention))
        _ = update(&s, .key(.char("v")))
        #expect(s.panel == .attention)
        try expectSnapshot(render(view(s, width: 100, height: 30)), "screen-attention")
        #expect(s.metrics.contains(.attention(from: "cls", block: nil)) && s.metrics.contains(.attention(from: "patches", block: nil)))
        while s.metric != .attention(from: "cls", block: nil) { _ = update(&s, .key(.char("m"))) }
        #expect(chartSeries(s)[0].points.count == 3 && chartSeries(s)[1].points.isEmpty)
        for _ in 0..<3 { _ = update(&s, .key(.char("v"))) }
        #expect(s.panel == .nmi)
    }

    /// A map of 3 blocks: 40 patch tokens on a ring (denser on its right half), 3 prompts, the
    /// third far outside; at step 0 the prompts sat elsewhere.
    static func mapRecords() -> [RunRecord] {
        let ring = (0..<40).flatMap { i -> [Double] in
            let a = Double(i) / 40 * 2 * .pi * (i % 2 == 0 ? 1 : 0.25)
            return [4 * cos(a), 2 * sin(a)]
        }
        let projection = ProjectionRecord(step: 0, centre: [[0], [0], [0]], axes: [[1, 0], [1, 0], [1, 0]], explained: Array(repeating: [0.41, 0.12], count: 3))
        func map(_ step: Int, _ prompts: [Double], _ nearest: [Double]) -> RunRecord {
            .map(MapRecord(step: step, epoch: 0, time: 0, prompts: Array(repeating: prompts, count: 3), patches: Array(repeating: ring, count: 3),
                           nearest: Array(repeating: nearest, count: 3)))
        }
        return [.projection(projection), map(0, [-3, 0, 0, 1.5, 30, 0], [0.2, 0.9, 7.5]), map(10, [-2, -1, 1, 1, 40, 25], [0.1, 0.4, 9.25])]
    }

    /// `v` twice: the prompt map of the focused run — braille density, numbered prompts, where
    /// they started, an arrow for the prompt outside the cloud, distances beside; `<`/`>` choose
    /// the block (wrapping). At 140×45 in Unicode and at 80×30 in ASCII.
    @Test func promptMapPanel() throws {
        var s = state()
        _ = update(&s, .records(id: "random", Self.mapRecords()))
        _ = update(&s, .key(.char("v"))); _ = update(&s, .key(.char("v")))
        #expect(s.panel == .map)
        try expectSnapshot(render(view(s, width: 140, height: 45)), "screen-map-140x45")
        _ = update(&s, .key(.char("<")))
        #expect(s.mapBlock == 2)
        _ = update(&s, .key(.char(">")))
        #expect(s.mapBlock == 0)
        s.ascii = true
        let ascii = view(s, width: 80, height: 30)
        #expect(ascii.lines.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        try expectSnapshot(render(ascii), "screen-map-ascii-80x30")
        // Colour carries nothing the characters do not: each prompt is its own digit.
        s.ascii = false
        let text = view(s, width: 140, height: 45).lines.joined()
        #expect(["1", "2", "→"].allSatisfy { text.contains($0) })
        _ = update(&s, .key(.char("v"))); _ = update(&s, .key(.char("v")))
        #expect(s.panel == .nmi)
    }

    /// `v` three times: the probe image (an 8×8 gray gradient, 2×2 patches) tinted by each patch's
    /// nearest prompt; `)` shows prompt 1's attention, then prompt 2's, then the nearest prompts
    /// again. In literal colours at 140×45, as density characters without colour (NO_COLOR or
    /// fewer than 256 colours) and in ASCII.
    @Test func imageView() throws {
        var s = state()
        var bytes = [UInt8](repeating: 0, count: 64)
        for i in 0..<64 { bytes[i] = UInt8(i % 8 * 32 + i / 8 * 4) }
        let pixels = Data(bytes).base64EncodedString()
        let projection = ProjectionRecord(step: 0, centre: [[0]], axes: [[1, 0]], explained: [[0.5, 0.25]],
                                          image: pixels, imageWidth: 8, imageHeight: 8, imageChannels: 1)
        let map = MapRecord(step: 10, epoch: 1, time: 1, prompts: [[0, 0, 1, 1]], patches: [[0, 0]], nearest: [[0.1, 0.2]],
                            imageNearest: [[0, 1, 1, 0]], imageAttention: [[100, 50, 0, 25, 0, 0, 100, 10]])
        _ = update(&s, .records(id: "random", [.projection(projection), .map(map)]))
        for _ in 0..<3 { _ = update(&s, .key(.char("v"))) }
        #expect(s.panel == .image && s.imagePrompt == nil)
        let colored = view(s, width: 140, height: 45)
        #expect(colored.cells.contains { $0.char == "▀" && $0.background != nil })
        try expectSnapshot(render(colored), "screen-image-140x45")
        _ = update(&s, .key(.char(")")))
        #expect(s.imagePrompt == 0)
        _ = update(&s, .key(.char(")"))); _ = update(&s, .key(.char(")")))
        #expect(s.imagePrompt == nil)
        _ = update(&s, .key(.char("(")))
        #expect(s.imagePrompt == 1)
        s.imageColors = false
        let plain = view(s, width: 140, height: 45)
        #expect(!plain.cells.contains { if case .rgb = $0.role { return true } else { return $0.background != nil } })
        try expectSnapshot(render(plain), "screen-image-no-color-140x45")
        _ = update(&s, .key(.char(")")))
        s.ascii = true
        let ascii = view(s, width: 80, height: 30)
        #expect(ascii.lines.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
        try expectSnapshot(render(ascii), "screen-image-ascii-80x30")
    }

    @Test func helpOverlay() throws {
        var s = state()
        _ = update(&s, .key(.char("?")))
        try expectSnapshot(render(view(s, width: 100, height: 30)), "screen-help")
    }

    /// Without a UTF-8 locale every cell is ASCII, and what had a symbol reads as text.
    @Test func asciiFallbackCoversEveryScreen() throws {
        var s = state()
        s.ascii = true
        _ = update(&s, .records(id: "random", [.attention(AttentionRecord(step: 20, epoch: 2, time: 10, cls: [0.3, 0.2, 0.1], patches: [0.2, 0.1, 0.05]))]))
        var screens: [String] = []
        func snap(_ w: Int = 100, _ h: Int = 30) { screens.append(view(s, width: w, height: h).lines.joined(separator: "\n")) }
        for _ in s.metrics { snap(); _ = update(&s, .key(.char("m"))) }
        _ = update(&s, .key(.char("v"))); snap(); _ = update(&s, .key(.char("v")))
        _ = update(&s, .key(.char("L"))); _ = update(&s, .key(.char("+"))); snap()
        _ = update(&s, .key(.char("?"))); snap(); _ = update(&s, .key(.char("?")))
        _ = update(&s, .key(.char("q"))); snap()
        snap(20, 5)
        s.mode = .replay; s.replaySpeed = 10; s.replayClock = 5; s.replayDuration = 165
        snap()
        for text in screens {
            let bad = text.unicodeScalars.filter { !$0.isASCII }
            #expect(bad.isEmpty, "non-ASCII \(String(String.UnicodeScalarView(bad))) in\n\(text)")
        }
        #expect(screens.last!.contains(" . x10 . 00:05 / 02:45"), "\(screens.last!)")
        #expect(screens[0].contains("# kmeans->sampl") && screens[0].contains(" -> "), "\(screens[0])")
    }

    @Test func tooSmallTerminalGetsAMessageNotAMess() {
        let b = view(state(), width: 20, height: 5)
        #expect(b.lines.contains { $0.contains("terminal too small") })
        _ = view(state(), width: 0, height: 0)
        _ = view(state(), width: 1, height: 1)
    }
}
