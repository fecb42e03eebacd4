import Testing
import SPTDashboard

@Suite struct ScreenDiffTests {
    @Test func blockAndBrailleGlyphsSurviveIntoRuns() {
        var b = CellBuffer(width: 12, height: 1)
        b.put("▁▂▃▄▅▆▇█", x: 0, y: 0, role: .series(0))
        b.put("⣿⡇", x: 9, y: 0, role: .series(1))
        let runs = screenDiff(old: nil, new: b)
        #expect(runs.map { String(String.UnicodeScalarView($0.text)) } == ["▁▂▃▄▅▆▇█", " ", "⣿⡇", " "])
        #expect(runs[2].x == 9 && runs[2].role == .series(1))
    }

    @Test func onlyChangedCellsAreRewritten() {
        var a = CellBuffer(width: 10, height: 2)
        a.put("loss 0.50", x: 0, y: 0)
        var b = a
        b.put("0.42", x: 5, y: 0)
        let runs = screenDiff(old: a, new: b)
        #expect(runs == [CellRun(x: 7, y: 0, text: ["4", "2"], role: .text, attrs: [])])
    }
}
