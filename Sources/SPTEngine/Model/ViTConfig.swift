/// Architecture of a pre-norm ViT (timm semantics). Stored in checkpoint metadata.
public struct ViTConfig: Codable, Equatable, Sendable {
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var dim: Int
    public var depth: Int
    public var heads: Int
    public var mlpDim: Int

    public init(imageSize: Int, patchSize: Int, channels: Int, dim: Int, depth: Int, heads: Int, mlpDim: Int) {
        self.imageSize = imageSize; self.patchSize = patchSize; self.channels = channels
        self.dim = dim; self.depth = depth; self.heads = heads; self.mlpDim = mlpDim
    }

    public var gridSize: Int { imageSize / patchSize }
    public var numPatches: Int { gridSize * gridSize }
    public var patchDim: Int { channels * patchSize * patchSize }
    public var headDim: Int { dim / heads }

    /// The shipped backbones' architecture: 28×28 gray, 7×7 patches of 4 pixels.
    public static let tiny = ViTConfig(imageSize: 28, patchSize: 4, channels: 1, dim: 128, depth: 6, heads: 4, mlpDim: 512)
    /// The performance yardstick of `spt bench`.
    public static let reference = ViTConfig(imageSize: 32, patchSize: 4, channels: 3, dim: 192, depth: 6, heads: 3, mlpDim: 768)

    /// timm's ViT-B/16 and ViT-S/16 at 224²: the workloads users bring.
    public static let vitB16 = ViTConfig(imageSize: 224, patchSize: 16, channels: 3, dim: 768, depth: 12, heads: 12, mlpDim: 3072)
    public static let vitS16 = ViTConfig(imageSize: 224, patchSize: 16, channels: 3, dim: 384, depth: 12, heads: 6, mlpDim: 1536)

    public static let presets: [String: ViTConfig] = ["tiny": .tiny, "reference": .reference, "vit-b16": .vitB16, "vit-s16": .vitS16]

    /// Throws a readable error for inconsistent sizes.
    public func validate() throws {
        func check(_ ok: Bool, _ msg: String) throws { if !ok { throw EngineError.invalidConfig(msg) } }
        try check(imageSize > 0 && patchSize > 0 && imageSize % patchSize == 0, "image size \(imageSize) is not a multiple of patch size \(patchSize)")
        try check(dim > 0 && heads > 0 && dim % heads == 0, "dim \(dim) is not a multiple of heads \(heads)")
        try check(depth > 0 && mlpDim > 0 && channels > 0, "depth, mlp dim and channels must be positive")
        // Beyond any ViT in use: a config past these is a corrupt file, not a model to allocate.
        try check(imageSize <= 4096 && dim <= 16384 && depth <= 256 && mlpDim <= 65536 && channels <= 4 && heads <= dim,
                  "image \(imageSize), dim \(dim), depth \(depth), mlp \(mlpDim), channels \(channels) exceed the limits (4096, 16384, 256, 65536, 4)")
    }

    /// timm tensor names and shapes of the backbone (no head).
    public var backboneLayout: ParameterLayout {
        var l = ParameterLayout()
        l.add("cls_token", [1, 1, dim], decay: false)
        l.add("pos_embed", [1, 1 + numPatches, dim], decay: false)
        l.add("patch_embed.proj.weight", [dim, channels, patchSize, patchSize])
        l.add("patch_embed.proj.bias", [dim])
        for i in 0..<depth { BlockParams.addLayout(&l, prefix: "blocks.\(i).", dim: dim, mlp: mlpDim) }
        l.add("norm.weight", [dim])
        l.add("norm.bias", [dim])
        return l
    }
}
