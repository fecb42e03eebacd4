import Testing
import SPTEngine

@Suite struct MatmulTests {
    @Test func blasMatchesNaiveMatmul() {
        var rng = RNG(seed: 1)
        let M = 37, K = 53, N = 29
        let x = Buffer([M, K], (0..<(M * K)).map { _ in rng.normal() })
        let w = Buffer([N, K], (0..<(N * K)).map { _ in rng.normal() })
        let b = Buffer([N], (0..<N).map { _ in rng.normal() })
        let fast = Buffer([M, N]), slow = Buffer([M, N])
        matmulForward(fast.ptr, x.ptr, w.ptr, b.ptr, M: M, K: K, N: N)
        naiveMatmul(slow.ptr, x.ptr, w.ptr, b.ptr, M: M, K: K, N: N)
        let err = zip(fast.array, slow.array).map { abs($0 - $1) }.max()!
        #expect(err < 1e-4, "largest difference \(err)")
        #expect(!blasCoreName.isEmpty)
    }
}
