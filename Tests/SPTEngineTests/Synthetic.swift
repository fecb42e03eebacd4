import SPTEngine

/// Small random backbones and data sets of 8×8 gray images for tests that train or gather.
enum Synthetic {
    static func backbone(_ c: ViTConfig, seed: UInt64) -> Backbone {
        Backbone(name: "t", path: nil, config: c, params: c.initBackbone(seed: seed), norm: Normalization(mean: [0.5], std: [0.25]),
                 pooling: .mean, metadata: [:], hash: "h")
    }

    static func images(_ n: Int, classes: Int, seed: UInt64) -> Dataset {
        var rng = RNG(seed: seed)
        return Dataset(name: "syn", images: (0..<(n * 64)).map { _ in rng.uniform() }, labels: (0..<n).map { Int32($0 % classes) },
                       channels: 1, height: 8, width: 8, classes: classes)
    }
}
