import Foundation
import Testing
@testable import SPTEngine

/// The prompts' attention share (`PromptAttention`, measured by `PromptProbe`) equals a direct
/// computation: softmax of q·k/√dh from the block's own q and k, in Double, summed over the prompt
/// keys — for the class token's query and averaged over the patch queries, heads and images.
@Suite struct PromptAttentionTests {
    func model(classToken: Bool, registers: Int = 0, deep: Bool) -> ViTClassifier {
        var c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 16, depth: 3, heads: 2, mlpDim: 32)
        c.classToken = classToken; c.registers = registers
        let m = ViTClassifier(config: c, backbone: c.initBackbone(seed: 5), numClasses: 3, prompts: PromptSpec(count: 3, deep: deep),
                              pooling: classToken ? .cls : .mean, mode: .prompt, workspaces: Workspaces())
        var rng = RNG(seed: 2)
        m.initHead(rng: &rng)
        // Prompts of hidden-token size, so that they draw attention worth measuring.
        m.task.set("prompt_embeddings", (0..<((deep ? 3 : 1) * 3 * 16)).map { _ in 3 * rng.normal() })
        return m
    }

    @Test(arguments: [(true, 0, false), (true, 1, true), (false, 0, true)])
    func sharesEqualADirectComputation(classToken: Bool, registers: Int, deep: Bool) {
        let m = model(classToken: classToken, registers: registers, deep: deep), c = m.config
        let B = 4, Np = 3, T = c.tokens(prompts: Np), P = c.prefixTokens, D = c.dim, H = c.heads, dh = c.headDim
        var rng = RNG(seed: 9)
        let x = Buffer([B, 1, 8, 8], (0..<(B * 64)).map { _ in rng.normal() })
        let measured = PromptProbe.measure(m, images: x.ptr, B: B, mode: .tokens, normalization: .sqrt)
        var expectedCLS = [Double](), expectedPatches = [Double]()
        var frng = RNG(seed: 0)
        m.forward(images: x.ptr, B: B, inference: true, fp32: true, observe: { _, a in
            var cls = 0.0, patches = 0.0
            for b in 0..<B {
                for h in 0..<H {
                    func share(query t: Int) -> Double {
                        let q = a.qkv.ptr + (b * T + t) * 3 * D + h * dh
                        let scores = (0..<T).map { s -> Double in
                            let k = a.qkv.ptr + (b * T + s) * 3 * D + D + h * dh
                            return (0..<dh).reduce(0.0) { $0 + Double(q[$1]) * Double(k[$1]) } / Double(dh).squareRoot()
                        }
                        let top = scores.max()!, e = scores.map { exp($0 - top) }, total = e.reduce(0, +)
                        return (P..<(P + Np)).reduce(0.0) { $0 + e[$1] } / total
                    }
                    if classToken { cls += share(query: 0) }
                    patches += (0..<c.numPatches).reduce(0.0) { $0 + share(query: P + Np + $1) } / Double(c.numPatches)
                }
            }
            expectedCLS.append(cls / Double(B * H)); expectedPatches.append(patches / Double(B * H))
        }, rng: &frng)
        #expect(measured.attentionPatches.count == c.depth)
        for (a, e) in zip(measured.attentionPatches, expectedPatches) { #expect(abs(a - e) <= 1e-6, "patches \(a) vs \(e)") }
        if classToken {
            let cls = measured.attentionCLS ?? []
            #expect(cls.count == c.depth)
            for (a, e) in zip(cls, expectedCLS) { #expect(abs(a - e) <= 1e-6, "CLS \(a) vs \(e)") }
        } else {
            #expect(measured.attentionCLS == nil)
        }
        // Shares are fractions of the mass, and these prompts get some of it.
        #expect(measured.attentionPatches.allSatisfy { $0 > 0.01 && $0 < 1 })
    }
}
