import Foundation
import Testing
import SPTEngine

@Suite struct PretrainerTests {
    /// 64 random 8×8 images in 4 classes.
    func data() -> Dataset {
        var rng = RNG(seed: 11)
        return Dataset(name: "synthetic", images: (0..<(64 * 64)).map { _ in rng.uniform() },
                       labels: (0..<64).map { Int32($0 % 4) }, channels: 1, height: 8, width: 8, classes: 4)
    }

    @Test(arguments: PretrainOptions.Method.allCases)
    func resumingGivesTheSameBackboneAsAnUninterruptedRun(method: PretrainOptions.Method) throws {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 8, depth: 1, heads: 2, mlpDim: 16)
        var o = PretrainOptions(method: method, config: c, epochs: 2, batch: 16, lr: 1e-3, seed: 3)
        o.mae.decoderDim = 8; o.mae.decoderHeads = 2; o.mae.decoderDepth = 1
        o.norm = Normalization(mean: [0.5], std: [0.25])
        let dir = NSTemporaryDirectory() + "spt-pretrain-\(UInt32.random(in: 0..<UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

        let whole = try Pretrainer(options: o, train: data(), statePath: dir + "/a.state")
        try whole.run { _ in }
        try whole.exportBackbone(to: dir + "/a.safetensors", extra: [:])

        var stopAt = 3
        let first = try Pretrainer(options: o, train: data(), statePath: dir + "/b.state")
        try first.run(shouldStop: { stopAt -= 1; return stopAt == 0 }) { _ in }
        #expect(first.currentStep == 3)
        let second = try Pretrainer(options: o, train: data(), statePath: dir + "/b.state")
        #expect(second.currentStep == 3)
        #expect(second.trainSeconds == first.trainSeconds && first.trainSeconds > 0)  // the clock resumes too
        try second.run { _ in }
        #expect(second.trainSeconds > first.trainSeconds)
        try second.exportBackbone(to: dir + "/b.safetensors", extra: [:])

        let a = try SafeTensors(path: dir + "/a.safetensors"), b = try SafeTensors(path: dir + "/b.safetensors")
        for name in c.backboneLayout.specs.map(\.name) { #expect(try a.floats(name) == b.floats(name), "\(name)") }
        #expect(a.metadata["method"] == method.rawValue)

        var other = o
        other.lr = 2e-3
        #expect(throws: EngineError.self) { try Pretrainer(options: other, train: data(), statePath: dir + "/b.state") }
    }

    /// A state file checked tensor by tensor: optimizer moments of the wrong size, and a step that
    /// is negative or beyond the run (a SIGSEGV at step −5), are refused by name.
    @Test func aDamagedStateIsRefusedTensorByTensor() throws {
        let c = ViTConfig(imageSize: 8, patchSize: 2, channels: 1, dim: 8, depth: 1, heads: 2, mlpDim: 16)
        var o = PretrainOptions(method: .supervised, config: c, epochs: 1, batch: 16, lr: 1e-3, seed: 3)
        o.norm = Normalization(mean: [0.5], std: [0.25])
        let dir = NSTemporaryDirectory() + "spt-pretrain-\(UInt32.random(in: 0..<UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var stop = 2
        try Pretrainer(options: o, train: data(), statePath: dir + "/s.state").run(shouldStop: { stop -= 1; return stop == 0 }) { _ in }
        let good = try SafeTensors(path: dir + "/s.state")
        func rewrite(step: String, shorten: String? = nil) throws {
            let tensors = try good.entries.keys.sorted().map { n -> (name: String, shape: [Int], values: [Float]) in
                var v = try good.floats(n), shape = good.entries[n]!.shape
                if n == shorten { v.removeLast(); shape = [v.count] }
                return (n, shape, v)
            }
            var meta = good.metadata
            meta["step"] = step
            try SafeTensors.write(path: dir + "/bad.state", tensors: tensors, metadata: meta)
        }
        for (step, shorten, text) in [("-5", nil, "step -5: not a step of this run"), ("99999999", nil, "not a step of this run"),
                                      ("1", "opt.0.m", "opt.0.m:")] as [(String, String?, String)] {
            try rewrite(step: step, shorten: shorten)
            #expect { try Pretrainer(options: o, train: data(), statePath: dir + "/bad.state") } throws: { "\($0)".contains(text) }
        }
    }
}
