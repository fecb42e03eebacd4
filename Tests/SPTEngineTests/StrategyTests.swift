import Foundation
import Testing
import SPTEngine

@Suite struct StrategyTests {
    @Test func kmeansRecoversSeparatedBlobsAndInertiaNeverIncreases() {
        var rng = RNG(seed: 4)
        let K = 4, D = 3, per = 50
        let centres: [[Float]] = [[10, 0, 0], [0, 10, 0], [0, 0, 10], [-10, -10, -10]]
        var X = [Float]()
        for k in 0..<K { for _ in 0..<per { X += centres[k].map { $0 + 0.3 * rng.normal() } } }
        let r = X.withUnsafeMutableBufferPointer { kmeans($0.baseAddress!, N: K * per, D: D, K: K, seed: 1) }
        for c in centres {
            let best = (0..<K).map { k in zip(c, r.centroids[(k * D)..<((k + 1) * D)]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }.min()!
            #expect(best < 0.1, "centre \(c) not recovered")
        }
        for (a, b) in zip(r.history, r.history.dropFirst()) { #expect(b <= a * (1 + 1e-6)) }
    }

    @Test func kmeansRepairsEmptyClusters() {
        // 3 distinct points, 3 clusters, duplicates: every centroid must be a real point.
        var X: [Float] = [0, 0, 0, 0, 5, 5, 5, 5, 9, 9]
        let r = X.withUnsafeMutableBufferPointer { kmeans($0.baseAddress!, N: 5, D: 2, K: 3, seed: 2) }
        #expect(Set(r.centroids.map { Int($0) }) == [0, 5, 9])
        #expect(r.inertia < 1e-6)
    }

    @Test func batchWindowPoolingMatchesHandComputedValues() {
        // 2 images × 3 tokens, D = 2; 2 prompts → windows of 3 tokens over the flattened 6.
        let t: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let mean = PromptInitializer.batchWindowPool(t, images: 2, m: 3, D: 2, count: 2, max: false)
        #expect(mean == [3, 4, 9, 10])
        let mx = PromptInitializer.batchWindowPool(t, images: 2, m: 3, D: 2, count: 2, max: true)
        #expect(mx == [5, 6, 11, 12])
    }

    @Test func sampleReturnsRealCandidateTokens() {
        var rng = RNG(seed: 5)
        let tokens = (0..<40).map(Float.init)    // 20 tokens of D = 2
        let s = PromptInitializer.sampleTokens(tokens, D: 2, count: 5, rng: &rng)
        for k in 0..<5 {
            #expect(Int(s[2 * k]) % 2 == 0 && s[2 * k + 1] == s[2 * k] + 1)
        }
        #expect(Set((0..<5).map { s[2 * $0] }).count == 5)
    }

    @Test func randomMatchesTheXavierBound() {
        let vitB = ViTConfig(imageSize: 224, patchSize: 16, channels: 3, dim: 768, depth: 12, heads: 12, mlpDim: 3072)
        #expect(abs(PromptInitializer.randomBound(vitB) - 0.0625) < 1e-6)
        let c = ViTConfig.tiny
        let r = PromptInitializer.initialize(InitOptions(strategy: .random), spec: PromptSpec(count: 10, deep: true),
                                             config: c, candidates: nil, seed: 1)
        let v = PromptInitializer.randomBound(c)
        #expect(r.prompts.count == c.depth * 10 * c.dim)
        #expect(r.prompts.allSatisfy { abs($0) <= v })
        #expect(r.prompts.map(abs).max()! > 0.9 * v)
    }
}

@Suite struct NMITests {
    @Test func handComputedTwoByTwo() {
        // s = [[0, 0], [0, 0]] → uniform joint, independent: NMI 0.
        #expect(NMI.fromScores([0, 0, 0, 0], prompts: 2, patches: 2, normalization: .sqrt) == 0)
        // s = [[L, -L], [-L, L]] with σ(L) = 0.9: π = [[.45, .05], [.05, .45]], marginals ½.
        let L = log(9.0)
        let pi = [0.45, 0.05, 0.05, 0.45]
        let I = pi.reduce(0) { $0 + $1 * log($1 / 0.25) }, H = log(2.0)
        let v = NMI.fromScores([L, -L, -L, L], prompts: 2, patches: 2, normalization: .sqrt)
        #expect(abs(v - I / H) < 1e-12)
        let a = NMI.fromScores([L, -L, -L, L], prompts: 2, patches: 2, normalization: .arithmetic)
        #expect(abs(a - 2 * I / (2 * H)) < 1e-12)
    }

    @Test func invariantToPermutingPromptsOrPatches() {
        var rng = RNG(seed: 8)
        let P = 3, M = 5
        let s = (0..<(P * M)).map { _ in Double(rng.normal()) * 2 }
        let base = NMI.fromScores(s, prompts: P, patches: M, normalization: .sqrt)
        let rowPerm = [2, 0, 1], colPerm = [4, 2, 0, 3, 1]
        var t = [Double](repeating: 0, count: P * M)
        for k in 0..<P { for j in 0..<M { t[k * M + j] = s[rowPerm[k] * M + colPerm[j]] } }
        #expect(abs(NMI.fromScores(t, prompts: P, patches: M, normalization: .sqrt) - base) < 1e-12)
        #expect(base > 0)
    }

    /// Identical prompts (mean pooling on near-constant images) make the joint a product of its
    /// marginals: MI is 0 in exact arithmetic and must not come out as a rounding-error negative.
    @Test func identicalPromptsGiveZeroNeverNegative() {
        var rng = RNG(seed: 3)
        for _ in 0..<50 {
            let P = 10, M = 49
            let row = (0..<M).map { _ in Double(rng.normal()) * 3 }
            let v = NMI.fromScores(Array((0..<P).map { _ in row }.joined()), prompts: P, patches: M, normalization: .sqrt)
            #expect(v >= 0 && v < 1e-12)
        }
    }
}

@Suite struct LinearProbeTests {
    @Test func fewerTrainingImagesThanABatch() throws {
        let b = try Backbone.load("random-tiny"), d = try TaskCatalog.load("shape", imageSize: 28)
        let r = LinearProbe.run(b, train: d.train.subset(Array(0..<40)), test: d.test.subset(Array(0..<40)), epochs: 2)
        #expect(r.trainImages == 40 && r.testAccuracy >= 0)
    }
}
