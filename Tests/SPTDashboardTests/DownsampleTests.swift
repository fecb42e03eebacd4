import Testing
import SPTDashboard
import SPTRuns

@Suite struct DownsampleTests {
    @Test func keepsSpikesAndBoundsTheOutput() {
        let xs = (0..<1000).map(Double.init)
        var ys = xs.map { _ in 1.0 }
        ys[537] = 99
        ys[100] = .nan
        let b = Downsample.minMax(zip(xs, ys).map { Downsample.Bucket(x: $0, y: $1) }, buckets: 10, x0: 0, x1: 999)
        #expect(b.count == 10)
        #expect(b[5].max == 99 && b[5].min == 1)
        #expect(b.allSatisfy { $0.min.isFinite })
    }

    @Test func traceStaysBoundedAndKeepsExtremes() {
        var t = Trace(weight: 0)
        for i in 0..<100_000 { t.append(SeriesPoint(step: i, epoch: 0, time: 0, value: i == 77_777 ? 50 : 1)) }
        #expect(t.buckets.count <= Trace.capacity && t.buckets.count > Trace.capacity / 2)
        #expect(t.buckets.map(\.count).reduce(0, +) == 100_000)
        #expect(t.buckets.map(\.max).max() == 50 && t.buckets.last?.last.step == 99_999)
    }

    @Test func traceSmoothingMatchesTheBatchEMA() {
        let ys: [Double] = [1, 3, .nan, 2, 8, 5]
        var t = Trace(weight: 0)
        for (i, y) in ys.enumerated() { t.append(SeriesPoint(step: i, epoch: 0, time: 0, value: y)) }
        t.smooth(weight: 0.5)
        let drawn = t.buckets.map(\.last.value), batch = Smoothing.ema(ys, weight: 0.5)
        #expect(zip(drawn, batch).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(t.points.map(\.value)[4] == 8)
    }
}
