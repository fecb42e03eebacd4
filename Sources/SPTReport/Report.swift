import Foundation
import SPTRuns

/// `spt report`: sessions of runs (`spt compare` output, TensorBoard logs, any run logs) as a
/// Markdown report with figures. Per session: the table of SPT's Table 1 (accuracy mean ± sd over
/// seeds, initialization time, NMI at the start and the end), loss and accuracy per strategy
/// with seed bands, NMI per block per strategy over training, accuracy against the prompt count
/// when the session sweeps it, and val accuracy against the learning rate for `--tune` grids.
public enum Report {
    /// What the report needs of one run.
    struct Run {
        var name: String
        var strategy: String
        var prompts: Int
        var seed: UInt64
        var tune: Bool
        var lr: Double
        var weightDecay: Double
        var loss: [(step: Int, value: Double)] = []
        var accuracy: [String: [(step: Int, value: Double)]] = [:]
        /// Per NMI record: the mean over blocks and the values of the blocks a figure draws
        /// (`shownBlocks`) — a log of 100,000-block records once took 836 MB held whole.
        var nmi: [(step: Int, mean: Double, blocks: Int, values: [Double])] = []
        var initSeconds = 0.0
        var variant: String
        /// The first initialization's prompt diversity, mean over prompt layers: cosine, effective rank, nearest.
        var diversity: (cosine: Double, rank: Double, nearest: Double)?
        /// Per attention record: the prompts' share from the class token (else from the patches) per shown block.
        var attention: [(step: Int, values: [Double])] = []
        var attentionFrom = "cls"
        /// The prompt map: its plane, the first map (before any strategy switch) and the last.
        var projection: ProjectionRecord?
        var firstMap: MapRecord?, lastMap: MapRecord?

        init(_ log: RunLog) {
            let h = log.header
            name = log.runName
            strategy = h?.strategy ?? "?"
            prompts = h?.prompts ?? 0
            seed = h?.seed ?? 0
            // A point of a --tune grid: the tune protocol, named `tune-…` (by spt compare, or by hand as its file name).
            tune = h?[param: .evalProtocol] == "tune" && (name.hasPrefix("tune-") || (log.path as NSString).lastPathComponent.hasPrefix("tune-"))
            lr = h?.lr ?? .nan
            variant = h?.variant ?? "—"
            weightDecay = h?.weightDecay ?? .nan
            for r in log.records {
                switch r {
                case .train(let t): loss.append((t.step, t.loss))
                case .eval(let e): accuracy[e.split, default: []].append((e.step, e.accuracy))
                case .nmi(let n) where !n.values.isEmpty:
                    nmi.append((n.step, Report.mean(n.values), n.values.count, Report.shownBlocks(n.values.count).map { n.values[$0] }))
                case .initialization(let i) where i.step == 0:
                    initSeconds = i.seconds + (i.gatherSeconds ?? 0)
                    if let r = i.effectiveRank, let n = i.nearest {
                        diversity = (i.cosine.map { Report.mean($0) } ?? .nan, Report.mean(r), Report.mean(n))
                    }
                case .attention(let a):
                    let values = a.cls ?? a.patches
                    if a.cls == nil { attentionFrom = "patches" }
                    attention.append((a.step, Report.shownBlocks(values.count).map { values[$0] }))
                case .projection(let p): projection = p
                case .map(let m):
                    if firstMap == nil { firstMap = m }
                    lastMap = m
                case .segment(let s) where s.step == 0: strategy = s.strategy
                default: break
                }
            }
        }

        func final(_ split: String) -> Double? { accuracy[split]?.last?.value }
    }

    /// A session: the runs of one directory (or file) given.
    struct Session {
        var name: String
        var runs: [Run]
        var tune: [Run] { runs.filter(\.tune) }
        var final: [Run] { runs.filter { !$0.tune } }
        /// The split final accuracy is read on: test when any run has it, else val.
        var split: String { final.contains { $0.final("test") != nil } ? "test" : "val" }
        var strategies: [String] {
            var seen = Set<String>()
            return runs.map(\.strategy).filter { seen.insert($0).inserted }
        }
    }

    public struct Output {
        public var markdown: String
        /// File name → contents of each figure.
        public var figures: [(name: String, svg: String, figure: Figure)]
    }

    /// One section of a report: a name and the paths whose runs it holds.
    public struct Input: Equatable {
        public var name: String
        public var paths: [String]
    }

    /// The report's sections from its arguments: a path (session directory, run log, TensorBoard
    /// or W&B log) is one section named after it; `NAME=PATH,PATH…` joins several into one section
    /// (sessions that each ran one strategy, a sweep's jobs). A path that exists is always a path.
    public static func inputs(_ arguments: [String]) throws -> [Input] {
        let fm = FileManager.default
        let named = try arguments.map { a -> (String, [String]) in
            if fm.fileExists(atPath: a) { return ((a as NSString).lastPathComponent, [a]) }
            guard let eq = a.firstIndex(of: "="), eq != a.startIndex else {
                throw RunLogError.io(path: a, message: "no such file or directory")
            }
            let paths = a[a.index(after: eq)...].split(separator: ",").map(String.init)
            guard !paths.isEmpty else { throw RunLogError.io(path: a, message: "no paths after '=' (NAME=PATH,PATH…)") }
            for p in paths where !fm.fileExists(atPath: p) {
                throw RunLogError.io(path: p, message: "no such file or directory (in \(a))")
            }
            return (String(a[..<eq]), paths)
        }
        return zip(named, RunDirectory.safeNames(named.map(\.0))).map { Input(name: $1, paths: $0.1) }
    }

    /// Builds the report of `inputs`; figure names are prefixed with the section's.
    public static func build(_ inputs: [Input], palette: Palette, title: String = "spt report") throws -> (Output, issues: [String]) {
        var sessions: [Session] = [], issues: [String] = []
        for input in inputs {
            var runs: [Run] = []
            for p in input.paths {
                let logs = try RunDirectory.logFiles(at: p)
                guard !logs.isEmpty else { throw RunLogError.io(path: p, message: "no run logs (.jsonl files, TensorBoard event directories or W&B run files) here") }
                for f in logs {
                    let log = try RunDirectory.read(f)
                    issues += log.issues.map { "\(f): \($0)" }
                    runs.append(Run(log))
                }
            }
            sessions.append(Session(name: input.name, runs: runs))
        }
        var md = ["# \(title)", ""], figures: [(String, String, Figure)] = []
        for s in sessions {
            md += ["## \(s.name)", ""] + table(s) + [""]
            for (suffix, caption, f) in Self.figures(s, palette) {
                let file = "\(s.name)-\(suffix)"
                figures.append((file, SVG.render(f), f))
                md += ["![\(f.title)](\(file).svg)", "", "*\(caption)* ([PNG](\(file).png))", ""]
            }
        }
        return (Output(markdown: md.joined(separator: "\n"), figures: figures), issues)
    }

    static func meanSD(_ xs: [Double]) -> (mean: Double, sd: Double)? {
        guard !xs.isEmpty else { return nil }
        let m = xs.reduce(0, +) / Double(xs.count)
        let sd = xs.count > 1 ? (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot() : 0
        return (m, sd)
    }

    /// The blocks an NMI figure draws: all of them up to 48 (every ViT in use), else 48 evenly spaced.
    static func shownBlocks(_ count: Int) -> [Int] {
        let most = 48
        return count <= most ? Array(0..<count) : (0..<most).map { $0 * (count - 1) / (most - 1) }
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    /// SPT's Table 1 for one session: a row per strategy and prompt count.
    static func table(_ s: Session) -> [String] {
        var lines = ["| strategy | variant | prompts | lr | seeds | \(s.split) accuracy % (mean ± sd) | init s | init cos · rank · nearest | NMI start → end (mean over blocks) |",
                     "|---|---|---|---|---|---|---|---|---|"]
        let groups = Dictionary(grouping: s.final) { "\($0.strategy)|\($0.variant)|\($0.prompts)" }
        let keys = groups.keys.sorted { a, b in
            let (x, y) = (groups[a]![0], groups[b]![0])
            return (s.strategies.firstIndex(of: x.strategy)!, x.variant, x.prompts) < (s.strategies.firstIndex(of: y.strategy)!, y.variant, y.prompts)
        }
        let best = keys.compactMap { meanSD(groups[$0]!.compactMap { $0.final(s.split) })?.mean }.max()
        for k in keys {
            let g = groups[k]!
            let acc = meanSD(g.compactMap { $0.final(s.split) })
            var accText = acc.map { String(format: "%.1f ± %.1f", $0.mean * 100, $0.sd * 100) } ?? "—"
            if let a = acc, a.mean == best { accText = "**\(accText)**" }
            let start = mean(g.compactMap { $0.nmi.first?.mean }), end = mean(g.compactMap { $0.nmi.last?.mean })
            let nmi = start.isFinite ? String(format: "%.2e → %.2e", start, end) : "—"
            let lrs = Set(g.map(\.lr)).sorted().map { String(format: "%g", $0) }.joined(separator: ", ")
            let d = g.compactMap(\.diversity)
            let div = d.isEmpty ? "—" : String(format: "%.2f · %.1f · %.2fσ", mean(d.map(\.cosine)), mean(d.map(\.rank)), mean(d.map(\.nearest)))
            lines.append("| \(g[0].strategy) | \(g[0].variant) | \(g[0].prompts) | \(lrs) | \(g.count) | \(accText) | \(String(format: "%.2f", mean(g.map(\.initSeconds)))) | \(div) | \(nmi) |")
        }
        if !s.tune.isEmpty { lines += ["", "Learning rates tried on val (`--tune`): figure below."] }
        return lines
    }

    /// Mean over the runs at each step they share, with the min–max band.
    static func aggregate(_ curves: [[(step: Int, value: Double)]]) -> (line: [(x: Double, y: Double)], band: [(x: Double, low: Double, high: Double)]) {
        var byStep: [Int: [Double]] = [:]
        for c in curves { for p in c where p.value.isFinite { byStep[p.step, default: []].append(p.value) } }
        let steps = byStep.keys.sorted().filter { byStep[$0]!.count == curves.count }
        return (steps.map { (Double($0), mean(byStep[$0]!)) }, curves.count > 1 ? steps.map { (Double($0), byStep[$0]!.min()!, byStep[$0]!.max()!) } : [])
    }

    /// The prompts' attention share per block over training, one panel per strategy (mean over seeds).
    static func attentionFigure(_ s: Session, _ main: [Run], _ palette: Palette) -> [(String, String, Figure)] {
        let blocks = main.map { $0.attention.first?.values.count ?? 0 }.max() ?? 0
        guard blocks > 0 else { return [] }
        let from = main.contains { $0.attentionFrom == "cls" } ? "cls" : "patches"
        let panels = s.strategies.compactMap { st -> Figure.Panel? in
            let runs = main.filter { $0.strategy == st && $0.attentionFrom == from && !$0.attention.isEmpty }
            guard !runs.isEmpty else { return nil }
            let series = (0..<blocks).map { k -> Figure.Series in
                let a = aggregate(runs.map { r in r.attention.compactMap { k < $0.values.count ? ($0.step, $0.values[k]) : nil } })
                let t = blocks > 1 ? Double(k) / Double(blocks - 1) : 0
                return Figure.Series(name: "block \(k)", color: palette.series(0).mixed(with: palette.series(1), t), points: a.line)
            }
            return Figure.Panel(title: st, series: series)
        }
        let who = from == "cls" ? "the class token's" : "the patch tokens' (mean)"
        return [("attention", "Share of \(who) attention on the prompts per block over training (mean over heads, probe images and seeds), one panel per strategy (docs/METHOD.md §4.3).",
                 Figure(title: "\(s.name): attention to the prompts", xLabel: "step", yLabel: "share", panels: panels, palette: palette))]
    }

    /// The prompt map of the first and the last block, one panel per strategy (its first seed's
    /// run): the sampled patch tokens at the last map in grey, the prompts at the first map pale,
    /// at the last map in the strategy's colour (docs/METHOD.md §4.4).
    static func mapFigures(_ s: Session, _ main: [Run], _ palette: Palette) -> [(String, String, Figure)] {
        let runs = s.strategies.compactMap { st in main.filter { $0.strategy == st && $0.lastMap != nil }.min { $0.seed < $1.seed } }
        guard let depth = runs.map({ $0.lastMap!.prompts.count }).max(), depth > 0 else { return [] }
        return Set([0, depth - 1]).sorted().map { b in
            let panels = runs.compactMap { r -> Figure.Panel? in
                guard let last = r.lastMap, b < last.prompts.count, let first = r.firstMap else { return nil }
                let i = s.strategies.firstIndex(of: r.strategy) ?? 0
                var cloud = Figure.Series(name: "patch tokens", color: palette.grid.mixed(with: palette.text, 0.35), points: MapRecord.points(last.patches[b]))
                cloud.scatter = true; cloud.radius = 1.5
                var start = Figure.Series(name: "prompts, step \(first.step)", color: palette.series(i).mixed(with: palette.background, 0.6), points: MapRecord.points(first.prompts[b]))
                start.scatter = true
                var end = Figure.Series(name: "prompts, step \(last.step)", color: palette.series(i), points: MapRecord.points(last.prompts[b]))
                end.scatter = true; end.radius = 4
                let e = r.projection.flatMap { b < $0.explained.count && $0.explained[b].count == 2 ? $0.explained[b] : nil }
                let median = MapRecord.median(last.nearest[b]).map { String(format: ", nearest %.2fσ", $0) } ?? ""
                let axes = e.map { String(format: " (PC1 %.0f%%, PC2 %.0f%%%@)", $0[0] * 100, $0[1] * 100, median) } ?? ""
                return Figure.Panel(title: r.strategy + axes, series: [cloud, start, end])
            }
            return ("map-block\(b)", "The prompt map of block \(b): the probe images' patch tokens (256 sampled, grey) and the prompts at the first map (pale) and the last (coloured), in each run's principal plane of the block's input tokens, fixed at its first map; one panel per strategy (seed \(runs.map(\.seed).min() ?? 0)).",
                    Figure(title: "\(s.name): prompt map, block \(b)", xLabel: "first principal axis", yLabel: "second principal axis", panels: panels, palette: palette))
        }
    }

    static func ema(_ c: [(step: Int, value: Double)], weight: Double = 0.6) -> [(step: Int, value: Double)] {
        let v = Smoothing.ema(c.map(\.value), weight: weight)
        return zip(c, v).map { ($0.step, $1) }
    }

    /// The session's figures: (file suffix, caption, figure).
    static func figures(_ s: Session, _ palette: Palette) -> [(String, String, Figure)] {
        var out: [(String, String, Figure)] = []
        let final = s.final
        guard !final.isEmpty || !s.tune.isEmpty else { return out }
        let np = Dictionary(grouping: final, by: \.prompts).max { $0.value.count < $1.value.count }?.key
        let main = final.filter { $0.prompts == np }
        func perStrategy(_ curve: (Run) -> [(step: Int, value: Double)]) -> [Figure.Series] {
            s.strategies.enumerated().compactMap { i, st in
                let runs = main.filter { $0.strategy == st }
                guard !runs.isEmpty else { return nil }
                let a = aggregate(runs.map(curve))
                guard !a.line.isEmpty else { return nil }
                var series = Figure.Series(name: st, color: palette.series(i), points: a.line)
                series.band = a.band
                return series
            }
        }
        let seeds = Set(main.map(\.seed)).count
        let band = seeds > 1 ? "; band: min–max over \(seeds) seeds" : ""
        if !main.isEmpty {
            out.append(("loss", "Training loss (EMA 0.6 per run, mean over seeds\(band)), \(np ?? 0) prompts.",
                        Figure(title: "\(s.name): training loss", xLabel: "step", yLabel: "loss",
                               panels: [.init(title: "", series: perStrategy { ema($0.loss) })], palette: palette)))
            let evalSplit = main.contains { ($0.accuracy[s.split]?.count ?? 0) > 1 } ? s.split : "train"
            out.append(("accuracy", "Accuracy on \(evalSplit) per epoch (mean over seeds\(band))\(evalSplit == "train" ? "; the test split is evaluated once, at the end (table)" : "").",
                        Figure(title: "\(s.name): \(evalSplit) accuracy", xLabel: "step", yLabel: "accuracy",
                               panels: [.init(title: "", series: perStrategy { $0.accuracy[evalSplit] ?? [] })], palette: palette)))
            let blocks = main.map { $0.nmi.first?.blocks ?? 0 }.max() ?? 0
            if blocks > 0 {
                let shown = Report.shownBlocks(blocks)
                let panels = s.strategies.compactMap { st -> Figure.Panel? in
                    let runs = main.filter { $0.strategy == st && !$0.nmi.isEmpty }
                    guard !runs.isEmpty else { return nil }
                    let series = shown.enumerated().map { k, b -> Figure.Series in
                        // Runs with this many blocks hold the same shown blocks, in the same order.
                        let a = aggregate(runs.map { r in r.nmi.compactMap { $0.blocks == blocks && k < $0.values.count ? ($0.step, $0.values[k]) : nil } })
                        let t = blocks > 1 ? Double(b) / Double(blocks - 1) : 0
                        return Figure.Series(name: "block \(b)", color: palette.series(0).mixed(with: palette.series(1), t), points: a.line)
                    }
                    return Figure.Panel(title: st, series: series)
                }
                var f = Figure(title: "\(s.name): NMI per block", xLabel: "step", yLabel: "NMI", panels: panels, palette: palette)
                f.yLog = true
                let some = shown.count < blocks ? " (\(shown.count) of the \(blocks) blocks, evenly spaced)" : ""
                out.append(("nmi", "NMI between prompt and patch tokens per block\(some) over training (mean over seeds; log scale, shared by the panels), one panel per strategy.", f))
            }
            out += attentionFigure(s, main, palette) + mapFigures(s, main, palette)
        }
        let counts = Set(final.map(\.prompts)).sorted()
        if counts.count > 1 {
            let series = s.strategies.enumerated().compactMap { i, st -> Figure.Series? in
                let pts = counts.compactMap { n -> (Double, Double, Double)? in
                    meanSD(final.filter { $0.strategy == st && $0.prompts == n }.compactMap { $0.final(s.split) }).map { (Double(n), $0.mean, $0.sd) }
                }
                guard !pts.isEmpty else { return nil }
                var f = Figure.Series(name: st, color: palette.series(i), points: pts.map { ($0.0, $0.1) })
                f.errors = pts.map(\.2); f.markers = true
                return f
            }
            out.append(("prompts", "Final \(s.split) accuracy against the number of prompts (mean ± sd over seeds).",
                        Figure(title: "\(s.name): accuracy vs prompts", xLabel: "prompts", yLabel: "\(s.split) accuracy",
                               panels: [.init(title: "", series: series)], palette: palette)))
        }
        if !s.tune.isEmpty {
            let series = s.strategies.enumerated().compactMap { i, st -> Figure.Series? in
                // A point is the mean over its tune seeds, as --tune scores it; the best weight decay per rate.
                let byPoint = Dictionary(grouping: s.tune.filter { $0.strategy == st }, by: { [$0.lr, $0.weightDecay] })
                let means = byPoint.compactMapValues { runs -> Double? in
                    let v = runs.compactMap { $0.final("val") }
                    return v.count == runs.count ? v.reduce(0, +) / Double(v.count) : nil
                }
                let pts = Set(means.keys.map { $0[0] }).sorted().compactMap { lr in
                    means.filter { $0.key[0] == lr }.values.max().map { (lr, $0) }
                }
                guard !pts.isEmpty else { return nil }
                var f = Figure.Series(name: st, color: palette.series(i), points: pts)
                f.markers = true
                return f
            }
            var f = Figure(title: "\(s.name): --tune grid", xLabel: "learning rate", yLabel: "val accuracy",
                           panels: [.init(title: "", series: series)], palette: palette)
            f.xLog = true
            out.append(("tune", "Val accuracy after the tune runs (train 800 / val 200, mean over the tune seeds) against the learning rate; the best weight decay at each rate.", f))
        }
        return out
    }
}
