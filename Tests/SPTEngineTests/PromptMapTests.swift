import Foundation
import Testing
@testable import SPTEngine

/// The prompt map (`PromptMap`): the principal plane of a point set that lies in a plane is that
/// plane, a prompt equal to a patch token lands on that token's point at distance 0, and the
/// probe fixes the plane at the first map and keeps it.
@Suite struct PromptMapTests {
    /// n points a·u + b·v + c in D = 12 dimensions, u and v orthonormal, a spread wider than b.
    func plane(n: Int) -> (tokens: [Float], a: [Double], b: [Double], u: [Double], v: [Double], c: [Double]) {
        let D = 12
        var rng = RNG(seed: 4)
        var u = (0..<D).map { _ in Double(rng.normal()) }, v = (0..<D).map { _ in Double(rng.normal()) }
        let nu = u.reduce(0) { $0 + $1 * $1 }.squareRoot(); u = u.map { $0 / nu }
        let uv = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }; v = zip(v, u).map { $0 - uv * $1 }
        let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); v = v.map { $0 / nv }
        let c = (0..<D).map { _ in Double(rng.normal()) }
        let a = (0..<n).map { _ in 3 * Double(rng.normal()) }, b = (0..<n).map { _ in Double(rng.normal()) }
        // Centred exactly, so that the plane's origin is c.
        let am = a.reduce(0, +) / Double(n), bm = b.reduce(0, +) / Double(n)
        let ac = a.map { $0 - am }, b0 = b.map { $0 - bm }
        // Uncorrelated in the sample too, so that the principal axes are u and v themselves.
        let k = zip(ac, b0).reduce(0) { $0 + $1.0 * $1.1 } / ac.reduce(0) { $0 + $1 * $1 }
        let bc = zip(b0, ac).map { $0 - k * $1 }
        var tokens = [Float](repeating: 0, count: n * D)
        for i in 0..<n { for d in 0..<D { tokens[i * D + d] = Float(ac[i] * u[d] + bc[i] * v[d] + c[d]) } }
        return (tokens, ac, bc, u, v, c)
    }

    @Test func thePlaneOfPointsInAPlaneIsRecovered() {
        let n = 200, D = 12, p = plane(n: n)
        let r = PromptMap.basis(p.tokens, n: n, D: D)
        // All variance in two axes; the wider one first.
        #expect(abs(r.explained[0] + r.explained[1] - 1) < 1e-4, "\(r.explained)")
        #expect(r.explained[0] > r.explained[1])
        for d in 0..<D { #expect(abs(r.centre[d] - p.c[d]) < 1e-4) }
        // Axis 1 is ±u, axis 2 ±v; coordinates are then (±a, ±b).
        let dotU = (0..<D).reduce(0.0) { $0 + r.axes[$1] * p.u[$1] }, dotV = (0..<D).reduce(0.0) { $0 + r.axes[D + $1] * p.v[$1] }
        #expect(abs(abs(dotU) - 1) < 1e-4 && abs(abs(dotV) - 1) < 1e-4, "\(dotU) \(dotV)")
        for i in 0..<n {
            var x = 0.0, y = 0.0
            for d in 0..<D {
                let e = Double(p.tokens[i * D + d]) - r.centre[d]
                x += e * r.axes[d]; y += e * r.axes[D + d]
            }
            #expect(abs(x - dotU.sign(p.a[i])) < 1e-3 && abs(y - dotV.sign(p.b[i])) < 1e-3)
        }
        // Each axis is signed so that its largest component is positive.
        for k in 0..<2 { #expect(r.axes[(k * D)..<((k + 1) * D)].max { abs($0) < abs($1) }! > 0) }
    }

    @Test func aPromptEqualToAPatchTokenLandsOnItsPoint() {
        // One image of 6 patches after a class token and 2 prompts; prompt 1 is patch 4's copy.
        let D = 12, B = 1, P = 1, Np = 2, m = 6, T = P + Np + m
        let p = plane(n: m)
        var x = [Float](repeating: 0, count: B * T * D)
        for j in 0..<m { for d in 0..<D { x[(P + Np + j) * D + d] = p.tokens[j * D + d] } }
        for d in 0..<D { x[(P + 1) * D + d] = p.tokens[4 * D + d]; x[P * D + d] = 50 }
        let basis = PromptMap.basis(p.tokens, n: m, D: D)
        let tokens = PromptMap.patchTokens(x, B: B, T: T, P: P, Np: Np, D: D)
        #expect(tokens == p.tokens)
        let r = PromptMap.block(x, tokens: tokens, B: B, T: T, P: P, Np: Np, D: D, centre: basis.centre, axes: basis.axes)
        #expect(r.patches.count == 2 * m)
        #expect(Array(r.prompts[2..<4]) == Array(r.patches[8..<10]))
        #expect(r.nearest[1] == 0)
        #expect(r.nearest[0] > 5, "a far prompt: \(r.nearest[0]) spreads")
    }

    @Test func theSampleIsEvenAndBounded() {
        #expect(PromptMap.sample(tokens: 10) == Array(0..<10))
        let s = PromptMap.sample(tokens: 1568)
        #expect(s.count == PromptMap.maxPatches && s.first == 0 && s.last! < 1568 && Set(s).count == s.count)
    }

    @Test func theProbeFixesThePlaneAtTheFirstMap() throws {
        var c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 16, depth: 3, heads: 2, mlpDim: 32)
        c.classToken = true
        let model = ViTClassifier(config: c, backbone: c.initBackbone(seed: 5), numClasses: 3, prompts: PromptSpec(count: 3, deep: true),
                                  pooling: .cls, mode: .prompt, workspaces: Workspaces())
        var rng = RNG(seed: 2)
        model.initHead(rng: &rng)
        model.task.set("prompt_embeddings", (0..<(3 * 3 * 16)).map { _ in rng.normal() })
        let x = Buffer([4, 1, 8, 8], (0..<(4 * 64)).map { _ in rng.normal() })
        let first = PromptProbe.measure(model, images: x.ptr, B: 4, mode: .tokens, normalization: .sqrt, map: ProjectionBasis())
        let basis = try #require(first.basis)
        #expect(basis.centre.count == 3 && basis.axes.allSatisfy { $0.count == 32 })
        #expect(first.map?.prompts.map(\.count) == [6, 6, 6] && first.map?.patches.map(\.count) == [128, 128, 128])
        model.task.set("prompt_embeddings", (0..<(3 * 3 * 16)).map { _ in rng.normal() })
        let second = PromptProbe.measure(model, images: x.ptr, B: 4, mode: .tokens, normalization: .sqrt, map: basis)
        #expect(second.basis == basis)
        // Deep prompts replace block 1's and 2's; block 0's patch tokens do not depend on them.
        #expect(second.map?.patches[0] == first.map?.patches[0])
        #expect(second.map?.prompts[1] != first.map?.prompts[1])
    }
}

private extension Double {
    /// `v` with this value's sign.
    func sign(_ v: Double) -> Double { self < 0 ? -v : v }
}
