import Foundation
import Testing
@testable import SPTEngine

@Suite struct PromptDiversityTests {
    static let tokens: [Float] = {
        var g = RNG(seed: 2)
        return (0..<(40 * 6)).map { _ in g.normal() * 3 }
    }()

    @Test func copiesOfOneVectorHaveCosineOneAndRankOne() {
        let v: [Float] = [1, 2, 0, -1, 3, 0.5]
        let d = PromptDiversity.measure(prompts: Array((0..<5).map { _ in v }.joined()), tokens: Self.tokens, D: 6)
        #expect(abs(d.cosine! - 1) < 1e-9)
        #expect(abs(d.effectiveRank - 1) < 1e-6)
    }

    @Test func orthogonalPromptsOfEqualNormHaveCosineZeroAndFullRank() {
        var p = [Float](repeating: 0, count: 4 * 6)
        for k in 0..<4 { p[k * 6 + k] = 2 }
        let d = PromptDiversity.measure(prompts: p, tokens: Self.tokens, D: 6)
        #expect(abs(d.cosine!) < 1e-12)
        #expect(abs(d.effectiveRank - 4) < 1e-9)
    }

    /// The effective rank from LAPACK's eigenvalues against singular values computed by hand: a
    /// 2×2 block diag(3, 1) in a larger space has σ = (3, 1).
    @Test func effectiveRankOfKnownSingularValues() {
        let p: [Float] = [3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        let d = PromptDiversity.measure(prompts: p, tokens: Self.tokens, D: 6)
        let q = [0.75, 0.25], h = -q.map { $0 * log($0) }.reduce(0, +)
        #expect(abs(d.effectiveRank - exp(h)) < 1e-9)
    }

    /// A prompt equal to a reference token is at distance 0; one moved by the spread along an
    /// axis from a lone token is at 1 spread.
    @Test func nearestIsInUnitsOfTheSpread() {
        let t = Self.tokens
        #expect(PromptDiversity.measure(prompts: Array(t[12..<18]), tokens: t, D: 6).nearest == 0)
        let two: [Float] = [0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0]  // two tokens: mean (1,0,…), spread 1
        let d = PromptDiversity.measure(prompts: [1, 1, 0, 0, 0, 0], tokens: two, D: 6)
        #expect(abs(d.nearest - 2.0.squareRoot()) < 1e-6)
        #expect(PromptDiversity.measure(prompts: [1, 1, 0, 0, 0, 0], tokens: two, D: 6).cosine == nil)
    }
}

@Suite struct KMeansRestartTests {
    /// Restarts never end above the single start (it is start 0), and on clustered tokens with
    /// more clusters than one seeding finds reliably they find a lower optimum for some seed.
    @Test func restartsKeepTheLowestInertia() {
        var g = RNG(seed: 9)
        let K = 20, D = 8, per = 30
        let centres = (0..<K).map { _ in (0..<D).map { _ in g.normal() * 3 } }
        var X = [Float]()
        for k in 0..<K { for _ in 0..<per { X += centres[k].map { $0 + g.normal() } } }
        var improved = 0
        for seed in UInt64(0)..<10 {
            let one = X.withUnsafeMutableBufferPointer { kmeans($0.baseAddress!, N: K * per, D: D, K: K, seed: seed) }
            let five = X.withUnsafeMutableBufferPointer { kmeans($0.baseAddress!, N: K * per, D: D, K: K, restarts: 5, seed: seed) }
            #expect(five.inertia <= one.inertia)
            if five.inertia < one.inertia * 0.999 { improved += 1 }
        }
        #expect(improved >= 1, "no seed gained from restarts: the test does not exercise them")
    }
}
