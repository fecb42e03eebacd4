import Foundation
import SPTRuns

/// Draws the whole screen for a state (bubbletea's view). Pure: tests render it off-screen.
/// In ASCII mode every cell of the frame is ASCII.
public func view(_ s: DashboardState, width: Int, height: Int) -> CellBuffer {
    var buf = CellBuffer(width: width, height: height)
    buf.ascii = s.ascii
    draw(&buf, s, width: width, height: height)
    if s.ascii { buf.asciify() }
    return buf
}

private func draw(_ buf: inout CellBuffer, _ s: DashboardState, width: Int, height: Int) {
    let g = Glyphs(ascii: s.ascii)
    if width < Layout.minWidth || height < Layout.minHeight {
        let lines = ["terminal too small", "need \(Layout.minWidth)×\(Layout.minHeight), have \(width)×\(height)", "q quits"]
        for (i, l) in lines.enumerated() where height > 0 {
            let y = max(0, height / 2 - 1) + i
            buf.put(String(l.prefix(width)), x: max(0, (width - l.count) / 2), y: min(height - 1, y), role: i == 0 ? .warning : .dim)
        }
        return
    }
    header(&buf, s, width: width)
    let tableRows = min(s.runs.count, 8) + 1
    let drawing = s.panel == .map || s.panel == .image
    let blocks = s.focusedRun.flatMap { blockPanel(s.panel, $0) }
    let depth = blocks?.traces.count ?? 0
    // The map takes up to half of what the table leaves; the per-block panels a row per block.
    var nmiRows = drawing ? (s.focusedRun == nil ? 0 : min(20, (height - 1 - tableRows - 3) / 2))
                                  : depth > 0 ? min(depth, 12) + 1 : 0
    var chartH = height - 1 - tableRows - nmiRows - 3
    if chartH < 8 { nmiRows = 0; chartH = height - 1 - tableRows - 3 }
    var chart = LineChart(title: s.metric.title + (s.smoothing > 0 ? " (EMA \(s.smoothing))" : ""),
                          series: chartSeries(s))
    chart.logY = s.logY; chart.zoom = s.zoom; chart.xLabel = s.xAxis.rawValue; chart.glyphs = g
    chart.draw(into: &buf, x: 0, y: 1, width: width, height: chartH)
    var y = 1 + chartH
    runsTable(&buf, s, y: y, width: width, rows: tableRows, glyphs: g)
    y += tableRows + 1
    if nmiRows > 0, let r = s.focusedRun {
        if let blocks {
            perBlockPanel(&buf, r, blocks, y: y, width: width, rows: nmiRows, glyphs: g)
        } else if s.panel == .map {
            PromptMapPanel(run: r, block: s.mapBlock, role: .series(s.focus), glyphs: g).draw(into: &buf, x: 0, y: y, width: width, height: nmiRows)
        } else {
            ImagePanel(run: r, block: s.mapBlock, prompt: s.imagePrompt, colors: s.imageColors && !s.ascii, glyphs: g)
                .draw(into: &buf, x: 0, y: y, width: width, height: nmiRows)
        }
    }
    footer(&buf, s, width: width, height: height)
    if s.showHelp { helpOverlay(&buf, s, width: width, height: height) }
}

public enum Layout {
    public static let minWidth = 60
    public static let minHeight = 18
}

extension Metric {
    /// The chart's title for the metric.
    var title: String {
        switch self {
        case .trainLoss: "train loss"
        case .accuracy(let split): "\(split) accuracy"
        case .loss(let split): "\(split) loss"
        case .nmiMean: "NMI (mean over blocks)"
        case .nmi(let b): "NMI, block \(b)"
        case .attention(let from, let b): "attention to the prompts from \(from == "cls" ? "CLS" : "the patches")" + (b.map { ", block \($0)" } ?? " (mean over blocks)")
        case .nearest(let b): "prompts' distance to the nearest patch token (median, σ)" + (b.map { ", block \($0)" } ?? " (mean over blocks)")
        case .learningRate: "learning rate"
        case .gradNorm: "gradient norm"
        case .throughput: "images per second"
        case .scalar(let tag): tag
        }
    }
}

/// The curves of the chosen metric, one per run, as their traces summarize them (already
/// smoothed with the dashboard's EMA weight).
func chartSeries(_ s: DashboardState) -> [ChartSeries] {
    let names = legendNames(s.runs.map(\.label))
    return s.runs.enumerated().map { i, r in
        let t = r[s.metric]
        func x(_ p: SeriesPoint) -> Double {
            switch s.xAxis { case .step: Double(p.step); case .epoch: p.epoch; case .time: p.time }
        }
        // Points without a value on this axis (scalars carry no epoch) are left out.
        var pts = t.buckets.map { Downsample.Bucket(x: x($0.last), min: $0.min, max: $0.max, last: $0.last.value) }.filter(\.x.isFinite)
        if let first = t.points.first, !pts.isEmpty, x(first).isFinite { pts[0].x = min(pts[0].x, x(first)) }  // the axis starts at the first point
        return ChartSeries(name: names[i], points: pts, role: .series(i))
    }
}

/// Run names for the legend without the prompt-count and seed parts they all share
/// ("kmeans-np10-s0", "mean-pool-np10-s0" → "kmeans", "mean-pool"), so that every run fits.
func legendNames(_ labels: [String]) -> [String] {
    guard labels.count > 1 else { return labels }
    var parts = labels.map { $0.split(separator: "-", omittingEmptySubsequences: false) }
    func isParameter(_ t: Substring) -> Bool {
        for prefix in ["np", "s"] where t.hasPrefix(prefix) && t.count > prefix.count && t.dropFirst(prefix.count).allSatisfy(\.isNumber) { return true }
        return false
    }
    while parts.allSatisfy({ $0.count > 1 && $0.last == parts[0].last }), isParameter(parts[0].last!) {
        parts = parts.map { Array($0.dropLast()) }
    }
    let short = parts.map { $0.joined(separator: "-") }
    return Set(short).count == short.count ? short : labels
}

private func header(_ buf: inout CellBuffer, _ s: DashboardState, width: Int) {
    // live runs take turns on one engine thread, so the session's rate is the harmonic mean
    // of theirs (a round of one step each takes Σ batch/rateᵢ), not their sum
    let rates = s.runs.filter { $0.status == .training && $0.imagesPerSecond > 0 }.map(\.imagesPerSecond)
    let ips = rates.isEmpty ? 0 : Double(rates.count) / rates.map { 1 / $0 }.reduce(0, +)
    // replay and watch take task and backbone from the logs' headers
    func fromRuns(_ key: (RunHeader) -> String) -> String {
        let v = Array(Set(s.runs.compactMap { $0.header.map(key) })).sorted()
        return v.isEmpty ? "—" : v.joined(separator: ",")
    }
    var parts = ["spt-tui", s.task.isEmpty ? fromRuns(\.task) : s.task, s.backbone.isEmpty ? fromRuns(\.backbone) : s.backbone,
                 s.mode.rawValue + (s.source.isEmpty ? "" : " " + s.source), clock(s.elapsed)]
    switch s.mode {
    case .live: parts += [s.runs.isEmpty ? "starting" : s.statusCounts, String(format: "%.0f img/s", ips)]
    case .replay: parts += [String(format: "×%g%@", s.replaySpeed, s.replayPaused ? " paused" : ""), "\(clock(s.replayClock)) / \(clock(s.replayDuration))"]
    case .watch: parts += ["\(s.runs.count) logs"]
    }
    let text = parts.joined(separator: " · ")
    buf.put(String(repeating: " ", count: width), x: 0, y: 0, role: .title, attrs: .reverse)
    buf.put(String(text.prefix(width - 1)), x: 1, y: 0, role: .title, attrs: [.reverse, .bold])
}

private func runsTable(_ buf: inout CellBuffer, _ s: DashboardState, y: Int, width: Int, rows: Int, glyphs: Glyphs) {
    // run names get 16 columns, up to 32 for longer names on wide screens, fewer on narrow ones
    // so the loss sparklines keep room; names that still do not fit lose their middle
    let longest = s.runs.map(\.label.count).max() ?? 0
    let labelW = min(max(16, min(longest, 32)), max(10, width - 90))
    let cols = "   # " + pad("run", labelW) + " seg    step   epoch    loss  eval acc   best   NMI mean   img/s  state        "
    buf.put(String(cols.prefix(width)), x: 0, y: y, role: .dim, attrs: .underline)
    let sparkW = max(0, width - cols.count - 1)
    if sparkW > 4 { buf.put("loss trend".padding(toLength: sparkW, withPad: " ", startingAt: 0), x: cols.count, y: y, role: .dim, attrs: .underline) }
    let first = max(0, min(s.focus - (rows - 2), s.runs.count - (rows - 1)))
    for (row, i) in (first..<min(s.runs.count, first + rows - 1)).enumerated() {
        let r = s.runs[i], ry = y + 1 + row
        let focused = i == s.focus
        let acc = r.evalAccuracy.last.map { String(format: "%5.1f%%", $0.value * 100) } ?? "    —"
        let best = r.bestAccuracy.map { String(format: "%5.1f%%", $0 * 100) } ?? "    —"
        let nmi = r[.nmiMean].last.map { LineChart.format($0.value) } ?? "—"
        let loss = r[.trainLoss].last.map { String(format: "%.4f", $0.value) } ?? "—"
        let total = r.totalSteps.map { "/\($0)" } ?? ""
        // Logs from other writers may not say (a TensorBoard log without an epoch tag): a dash.
        let epoch = r.epoch.isFinite ? String(format: "%.2f", r.epoch) : "—"
        let speed = r.imagesPerSecond.isFinite ? String(format: "%.0f", r.imagesPerSecond) : "—"
        let line = String(format: "%@  %d %@ %3d %7@ %7@ %7@   %@  %@  %9@ %7@  %@",
                          focused ? ">" : " ", i + 1, pad(shorten(r.label, labelW, glyphs), labelW), r.segments.count, "\(r.step)\(total)".leftPad(7),
                          epoch.leftPad(7), loss.leftPad(7), acc, best, nmi.leftPad(9), speed.leftPad(7), pad(r.status.rawValue, 12))
        buf.put(String(line.prefix(width)), x: 0, y: ry, role: focused ? .highlight : .text, attrs: focused ? .bold : [])
        buf.put(glyphs.legendMark, x: 1, y: ry, role: .series(i))
        if sparkW > 4 {
            buf.put(Sparkline.render(r[.trainLoss].buckets.map(\.last.value), width: sparkW, glyphs: glyphs),
                    x: cols.count, y: ry, role: .series(i))
        }
        if let m = r.message, r.status == .diverged || r.status == .error {
            buf.put(String(m.prefix(max(0, width - cols.count))), x: cols.count, y: ry, role: .error)
        } else if let p = r.phase {
            buf.put(String(p.padding(toLength: max(0, width - cols.count), withPad: " ", startingAt: 0).prefix(max(0, width - cols.count))),
                    x: cols.count, y: ry, role: .warning)
        }
    }
}

/// The focused run's per-block curves the panel shows, and its title (nil: the panel draws instead).
private func blockPanel(_ panel: DashboardState.Panel, _ r: RunView) -> (title: String, traces: [Trace])? {
    switch panel {
    case .nmi:
        return ("NMI per block — \(r.label) (\(r.nmiMode); each line autoscaled)", r.perBlock { .nmi(block: $0) })
    case .map, .image:
        return nil
    case .attention:
        let a = r.attentionPerBlock
        return ("attention to the prompts from \(a.from == "cls" ? "CLS" : "the patches") per block — \(r.label) (share of the mass; each line autoscaled)", a.traces)
    }
}

private func perBlockPanel(_ buf: inout CellBuffer, _ r: RunView, _ panel: (title: String, traces: [Trace]), y: Int, width: Int, rows: Int, glyphs: Glyphs) {
    let seg = r.segments.isEmpty ? "" : " · segment \(r.segments.count): since step \(r.segments.last!.step)"
    // The last initialization's diversity per prompt layer: beside each block for deep prompts,
    // in the title for shallow ones (their one set enters before block 0).
    let diversity = r.lastInit.map(initDiversity) ?? []
    let shallow = diversity.count == 1 ? " · init " + diversity[0] : ""
    buf.put(String("\(panel.title)\(seg)\(shallow)".prefix(width)), x: 0, y: y, role: .title, attrs: .bold)
    let deep = diversity.count > 1, divW = deep ? (diversity.map(\.count).max() ?? 0) + 2 : 0
    let w = max(4, width - 26 - divW)
    for b in 0..<min(panel.traces.count, rows - 1) {
        let t = panel.traces[b], vals = t.buckets.map(\.last.value)
        let first = t.points.first.map { LineChart.format($0.value) } ?? "—", last = t.last.map { LineChart.format($0.value) } ?? "—"
        buf.put(String(format: "b%-2d", b), x: 0, y: y + 1 + b, role: .dim)
        buf.put(Sparkline.render(vals, width: w, glyphs: glyphs), x: 4, y: y + 1 + b, role: .series(b % 6))
        buf.put("\(first.leftPad(9)) → \(last.leftPad(9))", x: 5 + w, y: y + 1 + b, role: .text)
        if deep, b < diversity.count, 5 + w + 21 + divW <= width { buf.put("  " + diversity[b], x: 5 + w + 21, y: y + 1 + b, role: .dim) }
    }
}

/// Per prompt layer: mean pairwise cosine, effective rank, distance to the nearest probe token (in spreads).
private func initDiversity(_ i: InitRecord) -> [String] {
    guard let rank = i.effectiveRank, let near = i.nearest else { return [] }
    // A log from elsewhere may give arrays of different lengths: the layers all three cover.
    return (0..<min(rank.count, near.count)).map { l in
        let cos = i.cosine.flatMap { l < $0.count ? String(format: "cos %.2f", $0[l]) : nil } ?? "cos —"
        return cos + String(format: " rank %.1f near %.2fσ", rank[l], near[l])
    }
}

private func footer(_ buf: inout CellBuffer, _ s: DashboardState, width: Int, height: Int) {
    let role: ColorRole = s.confirmQuit ? .warning : .text
    buf.put(String(s.status.prefix(width - 1)), x: 1, y: height - 2, role: role, attrs: s.confirmQuit ? .bold : [])
    let keys = KeyBinding.footer(mode: s.mode, strategies: s.strategies.count)
    buf.put(String(repeating: " ", count: width), x: 0, y: height - 1, role: .dim, attrs: .reverse)
    buf.put(String(keys.prefix(width - 1)), x: 1, y: height - 1, role: .dim, attrs: .reverse)
}

private func helpOverlay(_ buf: inout CellBuffer, _ s: DashboardState, width: Int, height: Int) {
    var lines = ["Keys", ""]
    let rows = KeyBinding.table.filter { $0.modes.contains(s.mode) }
    let keyWidth = rows.map(\.keys.count).max() ?? 10
    lines += rows.map { $0.keys.replacingOccurrences(of: "1-5", with: "1-\(s.strategies.count)").padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0) + $0.help }
    lines += ["", "NMI: normalized mutual information between prompt and patch tokens per block (SPT, §4)."]
    let w = min(width - 4, (lines.map(\.count).max() ?? 20) + 4), h = min(height - 2, lines.count + 2)
    let x0 = (width - w) / 2, y0 = (height - h) / 2
    for yy in 0..<h { buf.put(String(repeating: " ", count: w), x: x0, y: y0 + yy, role: .text, attrs: .reverse) }
    for (i, l) in lines.prefix(h - 2).enumerated() {
        buf.put(String(l.prefix(w - 4)), x: x0 + 2, y: y0 + 1 + i, role: i == 0 ? .title : .text, attrs: i == 0 ? [.reverse, .bold] : .reverse)
    }
}

private func clock(_ s: Double) -> String {
    let t = Int(s)
    return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
}

/// `s` in at most `n` columns, keeping its start and end (run names differ at both).
private func shorten(_ s: String, _ n: Int, _ glyphs: Glyphs) -> String {
    guard s.count > n, n > 2 else { return s }
    let head = (n - 1) / 2
    return String(s.prefix(head)) + glyphs.ellipsis + String(s.suffix(n - 1 - head))
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? String(s.prefix(n)) : s.padding(toLength: n, withPad: " ", startingAt: 0) }

extension String {
    /// Right-aligned in `n` columns (never cut).
    public func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
