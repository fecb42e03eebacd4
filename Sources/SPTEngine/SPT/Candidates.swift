import Foundation

/// Candidate tokens per layer from a prompt-free pass of the frozen backbone: layer 0 holds the
/// patch embeddings before the position embedding; layer i ≥ 1 the output of block i−1 without
/// CLS. Each layer is [images · m, D], image-major.
public struct Candidates: Sendable {
    public let layers: [[Float]]
    public let images: Int
    public let tokensPerImage: Int
    public let dim: Int
    public let seconds: Double

    /// Runs the frozen backbone without prompts over all of `data`, keeping layers 0..<`layerCount`.
    public static func gather(backbone: Backbone, data: Dataset, layerCount: Int, batch: Int? = nil) -> Candidates {
        let start = Date()
        let model = ViTClassifier(config: backbone.config, backbone: backbone.params, numClasses: data.classes,
                                  prompts: PromptSpec(count: 0), pooling: backbone.pooling, mode: .linear)
        let batcher = Batcher(channels: backbone.config.channels, size: backbone.config.imageSize, norm: backbone.norm)
        let indices = Array(0..<data.count)
        let c = model.config, m = c.numPatches, D = c.dim, T = 1 + m
        let batch = batch ?? Workspaces.inferenceBatch(c, T: T)
        var layers = (0..<layerCount).map { _ in [Float](repeating: 0, count: indices.count * m * D) }
        let input = Buffer([batch, c.channels, c.imageSize, c.imageSize])
        var rng = RNG(seed: 0)
        var i = 0
        while i < indices.count {
            let n = min(batch, indices.count - i)
            batcher.fill(input.ptr, from: data, indices: indices[i..<(i + n)], rng: &rng)
            let first = i
            // Block l's input is block l−1's output: taken as the inference pass reaches it.
            model.forward(images: input.ptr, B: n, withPrompts: false, inference: true, observe: { l, a in
                guard l >= 1, l < layerCount else { return }
                layers[l].withUnsafeMutableBufferPointer { dst in
                    let out = dst.baseAddress! + first * m * D
                    for b in 0..<n { (out + b * m * D).update(from: a.xin.ptr + (b * T + 1) * D, count: m * D) }
                }
            }, rng: &rng)
            layers[0].withUnsafeMutableBufferPointer { ($0.baseAddress! + i * m * D).update(from: model.patchEmbeddings.ptr, count: n * m * D) }
            i += n
        }
        return Candidates(layers: layers, images: indices.count, tokensPerImage: m, dim: D,
                          seconds: Date().timeIntervalSince(start))
    }
}
