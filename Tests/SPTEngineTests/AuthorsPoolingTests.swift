import Foundation
import Testing
import SPTEngine

/// The `authors` pooling variant against a transcription of the SPT authors' `prompt_generator`
/// (train.py / train_MAE.py, the `mean_pooling` and `max_pooling` branches), written here from
/// their code with Python's slicing spelled out: given the same permutation, every value equal.
@Suite struct AuthorsPoolingTests {
    /// Python's `seq[start:]` start index for a sequence of `count` items.
    static func pythonStart(_ start: Int, count: Int) -> Int { start < 0 ? max(0, count + start) : min(start, count) }

    /// Their loop: x is [B, L, D]; windows p = 0 … Np−2 are `x[:, p·w:(p+1)·w]`, the last is
    /// `x[:, -remain:]`; the pooled `[Np, B, D]` is reshaped to `[Np·B, D]` and the rows at
    /// `ids_keep` gathered.
    static func transcription(_ x: [Float], B: Int, L: Int, D: Int, Np: Int, max useMax: Bool, idsKeep: [Int]) -> [Float] {
        let windowSize = L / (Np - 1)
        let remainSize = L % windowSize
        func pool(_ b: Int, _ lo: Int, _ hi: Int) -> [Float] {
            (0..<D).map { d in
                let column = (lo..<hi).map { x[(b * L + $0) * D + d] }
                return useMax ? column.max()! : column.reduce(0, +) / Float(column.count)
            }
        }
        var pro: [[[Float]]] = []   // [Np][B][D]
        for p in 0..<(Np - 1) { pro.append((0..<B).map { pool($0, p * windowSize, (p + 1) * windowSize) }) }
        let last = pythonStart(-remainSize, count: L)
        pro.append((0..<B).map { pool($0, last, L) })
        let flat = pro.flatMap { $0 }   // torch.reshape(x_, (-1, D)): window-major
        return idsKeep.flatMap { flat[$0] }
    }

    @Test(arguments: [(49, 4), (49, 10), (49, 20), (196, 8), (196, 20)])
    func equalsTheAuthorsCode(L: Int, Np: Int) {
        let B = 5, D = 12
        var g = RNG(seed: UInt64(L * 100 + Np))
        let x = (0..<(B * L * D)).map { _ in g.normal() }
        let cand = Candidates(memory: [x], images: B, tokensPerImage: L, dim: D, seconds: 0)
        for useMax in [false, true] {
            var rng = RNG(seed: 7), mirror = rng
            let got = PromptInitializer.authorsPool(cand, layer: 0, images: Array(0..<B), count: Np, max: useMax, rng: &rng)
            let keep = Array(mirror.permutation(Np * B).prefix(Np))
            let want = Self.transcription(x, B: B, L: L, D: D, Np: Np, max: useMax, idsKeep: keep)
            #expect(got == want, "L \(L) Np \(Np) \(useMax ? "max" : "mean")")
        }
    }

    /// L = 196, Np = 8: w = 28 leaves no remainder, and their last slice `x[:, -0:]` is the whole
    /// image — one candidate per image is the image mean.
    @Test func aZeroRemainderPoolsTheWholeImage() {
        #expect(PromptInitializer.authorsWindow(7, tokens: 196, count: 8) == 0..<196)
        #expect(PromptInitializer.authorsWindow(6, tokens: 196, count: 8) == 168..<196)
        // L = 49, Np = 20: windows of 2, the last the single remaining token.
        #expect(PromptInitializer.authorsWindow(19, tokens: 49, count: 20) == 48..<49)
        #expect(PromptInitializer.authorsWindow(18, tokens: 49, count: 20) == 36..<38)
        #expect(PromptInitializer.authorsWindow(0, tokens: 49, count: 1) == 0..<49)
    }

    /// Their "random" for deep prompts: distinct tokens of the drawn images' flattened tokens.
    @Test func sampleDrawsFlattenedTokens() {
        let B = 3, L = 4, D = 2
        let x = (0..<(B * L * D)).map(Float.init)
        let cand = Candidates(memory: [x], images: B, tokensPerImage: L, dim: D, seconds: 0)
        var rng = RNG(seed: 11), mirror = rng
        let images = [2, 0, 2]  // drawn with replacement
        let got = PromptInitializer.authorsSample(cand, layer: 0, images: images, count: 5, rng: &rng)
        let want = mirror.permutation(B * L).prefix(5).flatMap { t -> [Float] in
            let row = images[t / L] * L + t % L
            return Array(x[(row * D)..<((row + 1) * D)])
        }
        #expect(got == want)
    }

    /// The whole strategy: one draw of images with replacement shared by every layer.
    @Test func theDrawIsSharedByEveryLayer() {
        let L = 9, D = 4, images = 6
        // Layer l's tokens are layer 0's plus l: the same images give the same windows, shifted.
        var g = RNG(seed: 3)
        let base = (0..<(images * L * D)).map { _ in g.normal() }
        let cand = Candidates(memory: (0..<3).map { l in base.map { $0 + Float(l) * 100 } }, images: images, tokensPerImage: L, dim: D, seconds: 0)
        var o = InitOptions(strategy: .sample)
        o.initImages = 4
        let r = PromptInitializer.initialize(o, spec: PromptSpec(count: 3, deep: true), config: ViTConfig(imageSize: 12, patchSize: 4, channels: 1, dim: D, depth: 3, heads: 1, mlpDim: 8),
                                             candidates: cand, seed: 5)
        #expect(r.images == 4)
        var rng = RNG(seed: 5)
        let drawn = (0..<4).map { _ in rng.int(images) }
        for l in 0..<3 {
            let want = PromptInitializer.authorsSample(cand, layer: l, images: drawn, count: 3, rng: &rng)
            #expect(Array(r.prompts[(l * 3 * D)..<((l + 1) * 3 * D)]) == want)
        }
    }
}
