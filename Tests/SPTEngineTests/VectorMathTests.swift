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

    /// Softmax rows of every length from 1 to 20 (full and partial eight-lane chunks), with the
    /// maximum placed in the tail, scores that overflow without the max shift, an all-negative row.
    @Test func softmaxRowsMatchesDoublePrecision() {
        var rng = RNG(seed: 5)
        for cols in 1...20 {
            let rows = 3
            var x = (0..<(rows * cols)).map { _ in rng.normal() * 30 }
            for r in 0..<rows { x[r * cols + cols - 1] = 200 + Float(r) }  // the max, last
            for c in 0..<cols { x[c] -= 500 }  // row 0 all negative: a padding lane must not win
            let expected: [Double] = (0..<rows).flatMap { r -> [Double] in
                let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!, e = row.map { Foundation.exp($0 - m) }, s = e.reduce(0, +)
                return e.map { $0 / s }
            }
            x.withUnsafeMutableBufferPointer { softmaxRows($0.baseAddress!, rows: rows, cols: cols) }
            let worst = zip(x, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-6, "cols \(cols): worst \(worst)")
        }
    }
}
