// exp and erf on eight floats at once: libm's expf/erff are scalar calls and were a fifth of the
// forward pass (GELU, softmax). Accuracy is checked against libm in KernelGradientTests.

typealias Float8 = SIMD8<Float>

/// eˣ (Cephes' expf: x = n·ln2 + r, a degree-6 polynomial in r, scaled by 2ⁿ through the
/// exponent bits); relative error ≈ 1e-7. Inputs are clamped to [−87.3, 88.7], the finite range.
/// (Written with lane masks and bit casts: Swift's generic SIMD min/max and float→int
/// conversions compile to per-lane calls.)
@inline(__always)
func vexp(_ x: Float8) -> Float8 {
    var x = x.replacing(with: -87.3, where: x .< -87.3)
    x.replace(with: 88.7, where: x .> 88.7)
    // adding 1.5·2²³ rounds to an integer, which then sits in the low mantissa bits
    let shifted = x * 1.44269504088896341 + 12582912
    let n = shifted - 12582912
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = Float8(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Float8.self)
    return p * scale
}

/// erf(x) as an odd rational function of x on [−4, 4] (±1 outside, exactly so in float);
/// absolute error ≤ 4.2e-7, measured against the exact erf.
@inline(__always)
func verf(_ x: Float8) -> Float8 {
    var x = x.replacing(with: -4, where: x .< -4)
    x.replace(with: 4, where: x .> 4)
    let x2 = x * x
    var p = Float8(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q = Float8(repeating: -1.45660718464996e-05)
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return x * p / q
}

/// Applies `body` to `count` floats eight at a time; the tail is padded with zeros.
@inline(__always)
func forEachFloat8(_ range: Range<Int>, _ body: (Int, Int) -> Void) {
    var i = range.lowerBound
    while i + 8 <= range.upperBound { body(i, 8); i += 8 }
    if i < range.upperBound { body(i, range.upperBound - i) }
}

@inline(__always)
func load8(_ p: FPtr, _ i: Int, _ n: Int) -> Float8 {
    if n == 8 { return UnsafeRawPointer(p + i).loadUnaligned(as: Float8.self) }
    var v = Float8()
    for k in 0..<n { v[k] = p[i + k] }
    return v
}

@inline(__always)
func store8(_ v: Float8, _ p: FPtr, _ i: Int, _ n: Int) {
    if n == 8 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Float8.self); return }
    for k in 0..<n { p[i + k] = v[k] }
}
