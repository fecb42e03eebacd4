import Testing
import SPTDashboard

@Suite struct WidgetTests {
    @Test func sparklineScalesToItsOwnRange() {
        let g = Glyphs(ascii: false)
        #expect(Sparkline.render([0, 1, 2, 3, 4, 5, 6, 7], width: 8, glyphs: g) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([5, 5, 5], width: 4, glyphs: g) == "▅▅▅▅")
        #expect(Sparkline.render([0, 1], width: 4, glyphs: g) == "▁▁██")
        #expect(Sparkline.render([1e-6, 1e-4, 1e-2], width: 3, log: true, glyphs: g) == "▁▅█")
        #expect(Sparkline.render([1, .nan, 3], width: 3, glyphs: Glyphs(ascii: true)) == "  #")
    }

    @Test func lineChartSnapshot() throws {
        var buf = CellBuffer(width: 40, height: 10)
        var c = LineChart(title: "loss", series: [
            ChartSeries(name: "a", xs: (0..<50).map(Double.init), ys: (0..<50).map { 1 / Double($0 + 1) }, role: .series(0)),
            ChartSeries(name: "b", xs: (0..<50).map(Double.init), ys: (0..<50).map { Double($0) / 100 }, role: .series(1)),
        ])
        c.glyphs = Glyphs(ascii: false)
        c.draw(into: &buf, x: 0, y: 0, width: 40, height: 10)
        try expectSnapshot(render(buf), "line-chart")
    }

    @Test func lineChartWithoutDataSaysSo() {
        var buf = CellBuffer(width: 40, height: 8)
        LineChart(title: "loss", series: []).draw(into: &buf, x: 0, y: 0, width: 40, height: 8)
        #expect(buf.lines.contains { $0.contains("waiting for data") })
    }
}
