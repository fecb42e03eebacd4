import Testing
import SPTRuns

@Suite struct SmoothingTests {
    @Test func emaMatchesHandComputedDebiasedValues() {
        // w = 0.5: last = 0.5·1 = 0.5, /0.5 = 1; last = 0.25 + 1.5 = 1.75, /0.75 = 2.333…
        let s = Smoothing.ema([1, 3], weight: 0.5)
        #expect(abs(s[0] - 1) < 1e-12)
        #expect(abs(s[1] - 1.75 / 0.75) < 1e-12)
    }

    @Test func emaPassesNaNThroughWithoutAdvancing() {
        let s = Smoothing.ema([1, .nan, 3], weight: 0.5)
        #expect(s[1].isNaN)
        #expect(abs(s[2] - 1.75 / 0.75) < 1e-12)
    }

    @Test func constantSeriesIsUnchanged() {
        #expect(Smoothing.ema([0.3, 0.3, 0.3], weight: 0.9) == [0.3, 0.3, 0.3])
    }
}
