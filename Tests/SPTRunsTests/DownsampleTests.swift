import Testing
import SPTRuns

@Suite struct DownsampleTests {
    @Test func keepsSpikesAndBoundsTheOutput() {
        let xs = (0..<1000).map(Double.init)
        var ys = xs.map { _ in 1.0 }
        ys[537] = 99
        ys[100] = .nan
        let b = Downsample.minMax(xs: xs, ys: ys, buckets: 10, x0: 0, x1: 999)
        #expect(b.count == 10)
        #expect(b[5].max == 99 && b[5].min == 1)
        #expect(b.allSatisfy { $0.min.isFinite })
    }

    @Test func movingAverageIsCentered() {
        #expect(Smoothing.movingAverage([1, 2, 3, 4, 5], radius: 1) == [1.5, 2, 3, 4, 4.5])
    }
}
