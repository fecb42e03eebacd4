import Testing
import SPTDashboard

@Suite struct CellBufferTests {
    @Test func putClipsAtRightEdge() {
        var b = CellBuffer(width: 6, height: 2)
        b.put("abcdefgh", x: 2, y: 1)
        #expect(b.lines == ["      ", "  abcd"])
    }
}
