import Foundation
import Testing
@testable import SPTEngine

@Suite struct VectorMathTests {
    /// Every float step of 1/1024 over the range that matters, against libm.
    @Test func expAndErfMatchLibm() {
        var worstErf: Float = 0, worstExp: Float = 0
        for i in stride(from: -6 * 1024, to: 6 * 1024, by: 8) {
            let x = Float8((0..<8).map { Float(i + $0) / 1024 })
            let e = verf(x), v = vexp(x * 8)
            for k in 0..<8 {
                worstErf = max(worstErf, abs(e[k] - erff(x[k])))
                worstExp = max(worstExp, abs(v[k] - expf(x[k] * 8)) / expf(x[k] * 8))
            }
        }
        #expect(worstErf <= 4.5e-7, "erf: largest absolute error \(worstErf)")
        #expect(worstExp <= 3e-7, "exp: largest relative error \(worstExp)")
        #expect(vexp(Float8(repeating: -200))[0] >= 0 && vexp(Float8(repeating: -200))[0] < 1e-37)
    }
}
