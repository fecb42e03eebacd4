/// Pre-logits features of every image of a data set under a frozen backbone — the head input
/// after pooling and the final LayerNorm (timm's `forward_head(pre_logits=True)`) — with, on
/// request, each block's mean output over the patch tokens, and the checkpoint's own logits
/// when it has a head. Inference passes sized by memory.
public struct Features {
    /// [N, D]
    public var features: [Float]
    /// [N, depth, D], block i's output averaged over the patch tokens.
    public var blockMeans: [Float]?
    /// [N, K] from the checkpoint's own head.
    public var logits: [Float]?

    public static func compute(_ backbone: Backbone, _ data: Dataset, pooling: Pooling? = nil, blockMeans: Bool = false,
                               precision: Precision = .fp32, progress: (Int, Int) -> Void = { _, _ in }) -> Features {
        let c = backbone.config, D = c.dim, T = c.tokens(), P = c.prefixTokens, m = c.numPatches
        let batch = Workspaces.inferenceBatch(c, T: T)
        let model = ViTClassifier(config: c, backbone: backbone.params, numClasses: max(2, data.classes),
                                  prompts: PromptSpec(count: 0), pooling: pooling ?? backbone.pooling, mode: .linear, precision: precision)
        let batcher = Batcher(channels: c.channels, size: c.imageSize, norm: backbone.norm)
        let input = Buffer([batch, c.channels, c.imageSize, c.imageSize])
        var out = Features(features: [Float](repeating: 0, count: data.count * D))
        var means = blockMeans ? [Float](repeating: 0, count: data.count * c.depth * D) : []
        var rng = RNG(seed: 0), i = 0
        func addMeans(block l: Int, _ x: FPtr, first: Int, n: Int) {
            for b in 0..<n {
                let dst = (first + b) * c.depth * D + l * D
                for t in P..<T { let r = x + (b * T + t) * D; for d in 0..<D { means[dst + d] += r[d] / Float(m) } }
            }
        }
        progress(0, data.count)
        while i < data.count {
            let n = min(batch, data.count - i), first = i
            batcher.fill(input.ptr, from: data, indices: Array(i..<(i + n))[...], rng: &rng)
            model.forward(images: input.ptr, B: n, inference: true, observe: blockMeans ? { l, a in
                if l >= 1 { addMeans(block: l - 1, a.xin.ptr, first: first, n: n) }
            } : nil, rng: &rng)
            if blockMeans { addMeans(block: c.depth - 1, model.tokens.ptr, first: first, n: n) }
            out.features.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * D).update(from: model.features.ptr, count: n * D) }
            i += n
            progress(i, data.count)
        }
        if blockMeans { out.blockMeans = means }
        if let h = backbone.head {
            let K = h.bias.count
            var logits = [Float](repeating: 0, count: data.count * K)
            let f = Buffer([data.count, D], out.features), w = Buffer([K, D], h.weight), bias = Buffer([K], h.bias)
            logits.withUnsafeMutableBufferPointer { matmulForward($0.baseAddress!, f.ptr, w.ptr, bias.ptr, M: data.count, K: D, N: K) }
            out.logits = logits
        }
        return out
    }
}
