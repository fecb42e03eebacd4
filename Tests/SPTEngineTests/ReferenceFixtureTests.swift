import Foundation
import Testing
import SPTEngine

/// The engine against an independent PyTorch implementation (tools/reference/vit_reference.py).
@Suite struct ReferenceFixtureTests {
    static let fixture = try! SafeTensors(path: Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("vit_reference.safetensors").path)
    let f = Self.fixture
    let config: ViTConfig
    let classes: Int, np: Int, batch: Int
    let labels: [Int32]

    init() throws {
        config = try JSONDecoder().decode(ViTConfig.self, from: Data(f.metadata["config"]!.utf8))
        classes = Int(f.metadata["classes"]!)!
        np = Int(f.metadata["prompts"]!)!
        labels = try f.floats("labels").map { Int32($0) }
        batch = labels.count
    }

    /// Asserts |a − ref| ≤ atol + rtol·|ref| elementwise and reports the largest difference.
    func expectClose(_ a: [Float], _ name: String, atol: Float = 2e-5, rtol: Float = 1e-3,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ref = try f.floats(name)
        #expect(a.count == ref.count, "\(name): \(a.count) values, reference has \(ref.count)", sourceLocation: sourceLocation)
        var maxDiff: Float = 0, bad = 0
        for (x, r) in zip(a, ref) {
            let d = abs(x - r)
            maxDiff = max(maxDiff, d)
            if !(d <= atol + rtol * abs(r)) { bad += 1 }
        }
        print("reference \(name): largest difference \(maxDiff)")
        #expect(bad == 0, "\(name): \(bad) of \(ref.count) values off, largest difference \(maxDiff)", sourceLocation: sourceLocation)
    }

    func makeModel(deep: Bool, pooling: Pooling, mode: TuningMode, precision: Precision = .fp32) throws -> ViTClassifier {
        let backbone = ParameterSet(config.backboneLayout)
        try f.load(into: backbone)
        let model = ViTClassifier(config: config, backbone: backbone, numClasses: classes,
                                  prompts: PromptSpec(count: np, deep: deep), pooling: pooling, mode: mode, precision: precision)
        let prompts = try f.floats("prompt_embeddings")
        model.task.set("prompt_embeddings", Array(prompts.prefix(model.task.layout.spec("prompt_embeddings")!.count)))
        model.task.set("head.weight", try f.floats("head.weight"))
        model.task.set("head.bias", try f.floats("head.bias"))
        return model
    }

    @Test(arguments: [(false, Pooling.cls), (true, Pooling.mean)])
    func forwardAndEveryGradient(deep: Bool, pooling: Pooling) throws {
        let name = "\(deep ? "deep" : "shallow")_\(pooling.rawValue)"
        let model = try makeModel(deep: deep, pooling: pooling, mode: .full)
        let input = Buffer([batch, config.channels, config.imageSize, config.imageSize], try f.floats("input"))
        var rng = RNG(seed: 0)
        let loss = model.forward(images: input.ptr, B: batch, labels: labels, rng: &rng)!
        try expectClose(model.logits.array, "\(name).logits")
        try expectClose([loss], "\(name).loss")
        let dinput = Buffer(input.shape)
        model.zeroGrads()
        model.backward(labels: labels, inputGrad: dinput.ptr)
        try expectClose(dinput.array, "\(name).grad.input")
        for spec in model.task.layout.specs {
            try expectClose(model.taskGrads.array(spec.name), "\(name).grad.\(spec.name)")
        }
        for spec in model.backbone.layout.specs {
            try expectClose(model.backboneGrads!.array(spec.name), "\(name).grad.\(spec.name)")
        }
    }

    @Test(arguments: [(false, Pooling.cls), (true, Pooling.mean)])
    func fiveOptimizerStepsMatchAndBackboneStaysFrozen(deep: Bool, pooling: Pooling) throws {
        let name = "\(deep ? "deep" : "shallow")_\(pooling.rawValue)"
        let input = Buffer([batch, config.channels, config.imageSize, config.imageSize], try f.floats("input"))
        for kind in OptimizerConfig.Kind.allCases {
            let model = try makeModel(deep: deep, pooling: pooling, mode: .prompt)
            let before = model.backbone.values.array
            let h = try JSONSerialization.jsonObject(with: Data(f.metadata[kind.rawValue]!.utf8)) as! [String: Any]
            var oc = OptimizerConfig(kind: kind, lr: Float(h["lr"] as! Double), weightDecay: Float(h["weight_decay"] as! Double))
            if kind == .sgd { oc.momentum = Float(h["momentum"] as! Double) }
            let opt = Optimizer(oc, [(model.task, model.taskGrads)])
            var rng = RNG(seed: 0)
            var losses: [Float] = []
            for _ in 0..<5 {
                losses.append(model.forward(images: input.ptr, B: batch, labels: labels, rng: &rng)!)
                model.zeroGrads()
                model.backward(labels: labels)
                opt.step(lr: oc.lr)
            }
            try expectClose(losses, "\(name).\(kind.rawValue)_losses", atol: 1e-5, rtol: 1e-4)
            #expect(model.backbone.values.array == before, "prompt tuning changed the backbone")
            #expect(model.backboneGrads == nil)
        }
    }
}
