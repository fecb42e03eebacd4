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
        // with a residual (the transformer's skip connections), with and without a bias
        let res = Buffer([M, N], (0..<(M * N)).map { _ in rng.normal() })
        for bias in [b.ptr, nil] {
            matmulForward(fast.ptr, x.ptr, w.ptr, bias, M: M, K: K, N: N, residual: res.ptr)
            naiveMatmul(slow.ptr, x.ptr, w.ptr, bias, M: M, K: K, N: N)
            let e = (0..<(M * N)).map { abs(fast.ptr[$0] - (slow.ptr[$0] + res.ptr[$0])) }.max()!
            #expect(e < 1e-4, "residual, bias \(bias != nil): largest difference \(e)")
        }
    }
}
