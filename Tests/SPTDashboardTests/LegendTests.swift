import Testing
@testable import SPTDashboard

@Suite struct LegendTests {
    @Test func legendDropsTheSuffixAllRunsShare() {
        #expect(legendNames(["kmeans-np10-s0", "random-np10-s0"]) == ["kmeans", "random"])
        #expect(legendNames(["mean-pool-np10-s0", "max-pool-np10-s0"]) == ["mean-pool", "max-pool"])
        #expect(legendNames(["random", "kmeans→sample"]) == ["random", "kmeans→sample"])
        #expect(legendNames(["a-s0", "a-s0"]) == ["a-s0", "a-s0"])  // nothing left: keep full names
        #expect(legendNames(["only-one"]) == ["only-one"])
    }
}
