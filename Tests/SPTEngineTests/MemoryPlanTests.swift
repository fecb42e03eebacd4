import Testing
import SPTEngine

/// Inference passes keep no training activations, and give the same numbers as training passes.
@Suite struct MemoryPlanTests {
    let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 16, depth: 4, heads: 2, mlpDim: 32)

    func model(_ ws: Workspaces = Workspaces(), deep: Bool = true, mode: TuningMode = .prompt) -> ViTClassifier {
        let m = ViTClassifier(config: c, backbone: c.initBackbone(seed: 3), numClasses: 3, prompts: PromptSpec(count: 4, deep: deep),
                              pooling: .mean, mode: mode, workspaces: ws)
        var rng = RNG(seed: 1)
        m.initHead(rng: &rng)
        m.task.set("prompt_embeddings", (0..<((deep ? 4 : 1) * 4 * 16)).map { _ in rng.normal() })
        return m
    }

    func images(_ B: Int) -> Buffer {
        var rng = RNG(seed: 2)
        return Buffer([B, 1, 8, 8], (0..<(B * 64)).map { _ in rng.normal() })
    }

    @Test func inferencePassesAllocateOneBlockOfScratch() {
        let m = model(), x = images(16)
        var rng = RNG(seed: 0)
        let ds = Dataset(name: "d", images: x.array.map { ($0 + 3) / 6 }, labels: (0..<16).map { Int32($0 % 3) }, channels: 1, height: 8, width: 8, classes: 3)
        _ = evaluate(m, on: ds, batcher: Batcher(channels: 1, size: 8, norm: Normalization(mean: [0.5], std: [0.25])))
        _ = NMI.perBlock(m, images: x.ptr, B: 16, mode: .attention, normalization: .sqrt)
        m.forward(images: x.ptr, B: 16, withPrompts: false, inference: true, rng: &rng)
        // Nothing but inference workspaces, each the size of one block's scratch.
        #expect(m.workspaces.allocatedBytes == m.workspaces.inferenceBytes)
        let T = 1 + 4 + c.numPatches
        let oneBlock = TransformerStack.floats(depth: 4, dim: 16, heads: 2, mlp: 32, B: 16, T: T, saves: .none)
        let training = TransformerStack.floats(depth: 4, dim: 16, heads: 2, mlp: 32, B: 16, T: T, saves: .all)
        #expect(m.workspaces.inferenceBytes < 2 * 4 * oneBlock + 4 * 16 * 64 * 8)
        #expect(oneBlock * 3 < training)
        // A frozen backbone's training pass saves less than one that trains every weight.
        let frozen = TransformerStack(depth: 4, dim: 16, heads: 2, mlp: 32, B: 16, T: T, saves: .inputGradients)
        #expect(frozen.allocatedFloats == TransformerStack.floats(depth: 4, dim: 16, heads: 2, mlp: 32, B: 16, T: T, saves: .inputGradients))
        #expect(frozen.allocatedFloats < training)
    }

    @Test(arguments: [true, false])
    func inferenceGivesTheTrainingPassNumbers(deep: Bool) {
        let x = images(6)
        var r1 = RNG(seed: 0), r2 = RNG(seed: 0)
        let a = model(deep: deep), b = model(deep: deep)
        let la = a.forward(images: x.ptr, B: 6, labels: [0, 1, 2, 0, 1, 2], rng: &r1)!
        let lb = b.forward(images: x.ptr, B: 6, labels: [0, 1, 2, 0, 1, 2], inference: true, rng: &r2)!
        #expect(la == lb)
        #expect(Array(a.logits.array.prefix(18)) == Array(b.logits.array.prefix(18)))
        // A smaller batch in a larger inference workspace reads only its own rows.
        let small = b.forward(images: x.ptr, B: 2, labels: [0, 1], inference: true, rng: &r2)!
        let c2 = model(deep: deep)
        #expect(small == c2.forward(images: x.ptr, B: 2, labels: [0, 1], rng: &r1)!)
    }

    /// Runs that share one `Workspaces` (a comparison stepped round-robin) allocate it once.
    @Test func runsShareWorkspaces() {
        let shared = Workspaces(), x = images(8)
        let models = (0..<5).map { _ in model(shared) }
        var rng = RNG(seed: 0)
        for m in models {
            m.forward(images: x.ptr, B: 8, labels: Array(repeating: 1, count: 8), training: true, rng: &rng)
            m.zeroGrads()
            m.backward(labels: Array(repeating: 1, count: 8))
        }
        let one = Workspaces()
        let single = model(one)
        single.forward(images: x.ptr, B: 8, labels: Array(repeating: 1, count: 8), training: true, rng: &rng)
        #expect(shared.allocatedBytes == one.allocatedBytes)
    }
}

/// Tokens kept in half-precision files give the same prompts as the same tokens in memory.
@Suite struct TokenStoreTests {
    @Test func tokensOnDiskGiveTheSamePromptsAsInMemory() throws {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 16, depth: 3, heads: 2, mlpDim: 32)
        let bb = Synthetic.backbone(c, seed: 4), data = Synthetic.images(40, classes: 2, seed: 5)
        var reported: [Int] = []
        let memory = try Candidates.gather(backbone: bb, data: data, layerCount: 3, batch: 16)
        let disk = try Candidates.gather(backbone: bb, data: data, layerCount: 3, batch: 16, memoryBudget: 0) { done, _ in reported.append(done) }
        #expect(!memory.onDisk && disk.onDisk && reported == [0, 16, 32, 40])
        for l in 0..<3 { #expect(disk.layer(l) == memory.layer(l).map { Float(Float16($0)) }) }
        let same = Candidates(memory: (0..<3).map { disk.layer($0) }, images: 40, tokensPerImage: c.numPatches, dim: 16, seconds: 0)
        #expect(disk.tokens(layer: 2, images: [7, 0, 39]) == same.tokens(layer: 2, images: [7, 0, 39]))
        for s in [InitStrategy.kmeans, .meanPool, .maxPool, .sample] {
            let spec = PromptSpec(count: 5, deep: true)
            let a = PromptInitializer.initialize(InitOptions(strategy: s), spec: spec, config: c, candidates: disk, seed: 9)
            let b = PromptInitializer.initialize(InitOptions(strategy: s), spec: spec, config: c, candidates: same, seed: 9)
            #expect(a.prompts == b.prompts && a.inertia == b.inertia, "\(s)")
        }
    }
}
