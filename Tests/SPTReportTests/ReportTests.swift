import Foundation
import Testing
@testable import SPTReport
import SPTFormats
import SPTRuns
import TestSupport

@Suite struct ReportTests {
    static let palette = Palette(text: RGB(0, 0, 0), axis: RGB(128, 128, 128), grid: RGB(220, 220, 220), background: RGB(255, 255, 255),
                                 series: [RGB(0, 95, 215), RGB(215, 95, 0)])

    /// A session of two strategies × two seeds, with NMI and a test evaluation at the end.
    static func session(_ dir: String) throws {
        for (strategy, base) in [("random", 2.0), ("kmeans", 1.5)] {
            for seed in 0..<2 {
                let w = try RunLogWriter(path: "\(dir)/\(strategy)-np10-s\(seed).jsonl")
                try w.append(.header(RunHeader(run: "\(strategy)-np10-s\(seed)", session: "s", engine: "e", task: "shape", backbone: "mae-tiny",
                                               strategy: strategy, variant: strategy == "kmeans" ? "kmeans++/lloyd" : nil, deep: false, prompts: 10, optimizer: "adamw", lr: 0.01, weightDecay: 1e-4,
                                               epochs: 2, batch: 32, seed: UInt64(seed), threads: 1, params: ["protocol": "final"])))
                try w.append(.initialization(strategy == "kmeans"
                    ? InitRecord(step: 0, strategy: strategy, seconds: 0.5, gatherSeconds: 0.25, cosine: [0.2, 0.4], effectiveRank: [3, 5], nearest: [0.5, 0.7])
                    : InitRecord(step: 0, strategy: strategy, seconds: 0.5, gatherSeconds: 0.25)))
                for step in 1...8 {
                    try w.append(.train(TrainRecord(step: step, epoch: Double(step) / 4, time: Double(step), loss: base / Double(step) + 0.01 * Double(seed),
                                                    lr: 0.01, gradNorm: 1, imagesPerSecond: 100)))
                    if step % 4 == 0 {
                        try w.append(.eval(EvalRecord(step: step, epoch: Double(step) / 4, time: Double(step), split: "train", loss: 1,
                                                      accuracy: 0.3 + 0.05 * Double(step) + 0.01 * Double(seed))))
                        try w.append(.nmi(NMIRecord(step: step, epoch: 1, time: 1, values: [0.01 * Double(step), 0.002 * base], mode: "tokens", normalization: "sqrt")))
                    }
                }
                try w.append(.eval(EvalRecord(step: 8, epoch: 2, time: 8, split: "test", loss: 1, accuracy: base == 2 ? 0.7 + 0.02 * Double(seed) : 0.8)))
            }
        }
    }

    /// NMI records of 100,000 blocks (a log anyone may write): the report keeps each record's mean
    /// and 48 evenly spaced blocks, says so, and stays fast and small (78 s and 836 MB before).
    @Test func hugeNMIRecordsAreSampled() throws {
        let d = temporaryDirectory() + "/huge"
        let w = try RunLogWriter(path: "\(d)/r.jsonl")
        try w.append(.header(RunHeader(run: "r", session: "s", engine: "e", task: "t", backbone: "b", strategy: "random", deep: false, prompts: 1,
                                       optimizer: "adamw", lr: 0.01, weightDecay: 0, epochs: 1, batch: 1, seed: 0, threads: 1, params: ["protocol": "final"])))
        for step in 0..<20 {
            try w.append(.nmi(NMIRecord(step: step, epoch: 0, time: 0, values: (0..<100_000).map { 1e-3 + Double($0 % 7) * 1e-4 }, mode: "tokens", normalization: "sqrt")))
            try w.append(.train(TrainRecord(step: step + 1, epoch: 0, time: 0, loss: 1, lr: 0.01, gradNorm: 1, imagesPerSecond: 1)))
        }
        let start = Date()
        let (out, _) = try Report.build(Report.inputs([d]), palette: Self.palette)
        #expect(Date().timeIntervalSince(start) < 30)
        let nmi = try #require(out.figures.first { $0.name.hasSuffix("-nmi") })
        #expect(nmi.figure.panels.allSatisfy { $0.series.count == 48 })
        #expect(out.markdown.contains("48 of the 100000 blocks"))
    }

    @Test func theTableAndFiguresOfASession() throws {
        let d = temporaryDirectory()
        try Self.session(d + "/shape-mae")
        let (out, issues) = try Report.build(Report.inputs([d + "/shape-mae"]), palette: Self.palette)
        #expect(issues.isEmpty)
        let lines = out.markdown.split(separator: "\n").map(String.init)
        // NMI: the blocks' mean at the first and last measurement ((0.04 + 0.004) / 2 → (0.08 + 0.004) / 2 for random).
        // Diversity: the layers' mean of the first initialization (a log without it: a dash).
        #expect(lines.contains("| random | — | 10 | 0.01 | 2 | 71.0 ± 1.4 | 0.75 | — | 2.20e-02 → 4.20e-02 |"))
        #expect(lines.contains("| kmeans | kmeans++/lloyd | 10 | 0.01 | 2 | **80.0 ± 0.0** | 0.75 | 0.30 · 4.0 · 0.60σ | 2.15e-02 → 4.15e-02 |"))
        #expect(out.figures.map(\.name) == ["shape-mae-loss", "shape-mae-accuracy", "shape-mae-nmi"])
        // The loss figure: one mean line and one seed band per strategy.
        let loss = out.figures[0].svg
        #expect(loss.components(separatedBy: "class=\"series\"").count - 1 == 2)
        #expect(loss.components(separatedBy: "class=\"band\"").count - 1 == 2)
        #expect(out.figures[2].figure.panels.map(\.title) == ["kmeans", "random"])
    }

    /// Sessions that each ran one strategy, joined by `NAME=PATH,PATH` into one section: the same
    /// table as the session that ran both; a path is a path even with `=` in its name; a missing
    /// part is named.
    @Test func joinedSessionsReadAsOne() throws {
        let d = temporaryDirectory()
        try Self.session(d + "/whole")
        let fm = FileManager.default
        for strategy in ["random", "kmeans"] {
            try fm.createDirectory(atPath: "\(d)/lr=0.01-\(strategy)", withIntermediateDirectories: true)
            for seed in 0..<2 { try fm.copyItem(atPath: "\(d)/whole/\(strategy)-np10-s\(seed).jsonl", toPath: "\(d)/lr=0.01-\(strategy)/\(seed).jsonl") }
        }
        let inputs = try Report.inputs(["whole=\(d)/lr=0.01-random,\(d)/lr=0.01-kmeans", "\(d)/lr=0.01-kmeans"])
        #expect(inputs == [Report.Input(name: "whole", paths: ["\(d)/lr=0.01-random", "\(d)/lr=0.01-kmeans"]),
                           Report.Input(name: "lr=0.01-kmeans", paths: ["\(d)/lr=0.01-kmeans"])])
        let table = { (md: String) in md.split(separator: "\n").filter { $0.hasPrefix("| random") || $0.hasPrefix("| kmeans") }.sorted() }
        let (joined, _) = try Report.build([inputs[0]], palette: Self.palette)
        let (whole, _) = try Report.build(Report.inputs([d + "/whole"]), palette: Self.palette)
        #expect(table(joined.markdown).count == 2 && table(joined.markdown) == table(whole.markdown))
        #expect(joined.figures.map(\.name) == ["whole-loss", "whole-accuracy", "whole-nmi"])
        #expect(throws: RunLogError.io(path: "\(d)/nope", message: "no such file or directory (in j=\(d)/whole,\(d)/nope)")) {
            try Report.inputs(["j=\(d)/whole,\(d)/nope"])
        }
        #expect(throws: RunLogError.io(path: "\(d)/absent", message: "no such file or directory")) { try Report.inputs(["\(d)/absent"]) }
    }

    /// A session whose runs draw prompt maps and measure attention: an attention figure (a line
    /// per block, a panel per strategy) and the map of the first and last block, a scatter per
    /// panel of the patch tokens and the prompts at the first and the last map.
    @Test func promptMapsAndAttentionBecomeFigures() throws {
        let d = temporaryDirectory() + "/maps"
        for strategy in ["random", "kmeans"] {
            let w = try RunLogWriter(path: "\(d)/\(strategy).jsonl")
            try w.append(.header(RunHeader(run: strategy, session: "s", engine: "e", task: "shape", backbone: "mae-tiny", strategy: strategy, deep: false,
                                           prompts: 2, optimizer: "adamw", lr: 0.01, weightDecay: 0, epochs: 1, batch: 4, seed: 0, threads: 1)))
            try w.append(.projection(ProjectionRecord(step: 0, centre: [[0, 0], [0, 0], [0, 0]], axes: [[1, 0, 0, 1], [1, 0, 0, 1], [1, 0, 0, 1]],
                                                      explained: [[0.5, 0.25], [0.5, 0.25], [0.5, 0.25]])))
            for step in [0, 4] {
                try w.append(.train(TrainRecord(step: max(1, step), epoch: 1, time: 1, loss: 1, lr: nil, gradNorm: nil, imagesPerSecond: nil)))
                try w.append(.attention(AttentionRecord(step: step, epoch: 1, time: 1, cls: [0.1, 0.2, 0.3], patches: [0.1, 0.1, 0.1])))
                let shift = Double(step)
                try w.append(.map(MapRecord(step: step, epoch: 1, time: 1, prompts: Array(repeating: [shift, 0, 0, shift], count: 3),
                                            patches: Array(repeating: [1, 1, 2, 2, 3, 3], count: 3), nearest: Array(repeating: [0.5, 1.5], count: 3))))
            }
        }
        let (out, _) = try Report.build(Report.inputs([d]), palette: Self.palette)
        let names = out.figures.map(\.name)
        #expect(names.contains("maps-attention") && names.contains("maps-map-block0") && names.contains("maps-map-block2"))
        let map = try #require(out.figures.first { $0.name == "maps-map-block0" })
        #expect(map.figure.panels.map(\.title) == ["kmeans (PC1 50%, PC2 25%, nearest 1.00σ)", "random (PC1 50%, PC2 25%, nearest 1.00σ)"])
        // Per panel: 3 patch tokens, 2 prompts at step 0, 2 at step 4 — dots, no lines.
        #expect(map.svg.components(separatedBy: "<circle").count - 1 == 14)
        #expect(!map.svg.contains("class=\"series\""))
        let attention = try #require(out.figures.first { $0.name == "maps-attention" })
        #expect(attention.figure.panels.map { $0.series.count } == [3, 3])
    }

    @Test func svgStructureSnapshot() throws {
        var s = Figure.Series(name: "kmeans <&>", color: RGB(0, 95, 215), points: [(1, 0.5), (2, 0.25), (4, 0.125)])
        s.band = [(1, 0.4, 0.6), (2, 0.2, 0.3), (4, 0.1, 0.15)]
        var t = Figure.Series(name: "random", color: RGB(215, 95, 0), points: [(1, 0.6), (2, 0.55)])
        t.errors = [0.05, 0.1]; t.markers = true; t.dashed = true
        let f = Figure(title: "loss \"quoted\"", xLabel: "step", yLabel: "loss", panels: [.init(title: "", series: [s, t])], palette: Self.palette)
        try expectSnapshot(SVG.render(f), at: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/figure.svg"))
    }

    @Test func pngFiguresDecodeAtTheLayoutsSize() throws {
        let d = temporaryDirectory()
        let f = Figure(title: "t", xLabel: "x", yLabel: "y",
                       panels: [.init(title: "a", series: [.init(name: "s", color: RGB(0, 0, 255), points: [(0, 0), (1, 1)])]),
                                .init(title: "b", series: [])], palette: Self.palette)
        try Raster.png(f, to: d + "/f.png")
        let img = try ImageDecoder.decode(d + "/f.png")
        let L = FigureLayout(f)
        #expect(img.width == Int(L.width) && img.height == Int(L.height))
        // The series' colour is drawn; the background is white where nothing is.
        #expect(stride(from: 0, to: img.pixels.count, by: 3).contains { img.pixels[$0] == 0 && img.pixels[$0 + 1] == 0 && img.pixels[$0 + 2] == 255 })
        #expect(img.pixels[0...2] == [255, 255, 255])
    }

    @Test func ticksAreRound() {
        #expect(Ticks.linear(0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(Ticks.log(0.0025...0.036) == [0.003, 0.01, 0.03])
        #expect(Ticks.label(0.0300) == "0.03" && Ticks.label(1e-7) == "1e-07" && Ticks.label(250) == "250")
    }
}
