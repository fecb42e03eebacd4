/// Where the final LayerNorm sits: on every token before pooling (timm's `norm`), or on the
/// pooled vector (timm's `fc_norm`, and this project's own backbones). The same for CLS pooling.
public enum HeadNorm: String, Codable, Sendable { case tokens, pooled }

/// Architecture of a pre-norm ViT (timm's VisionTransformer). Stored in checkpoint metadata; the
/// fields after `mlpDim` describe timm's variants and default to the original ViT.
///
/// Tokens are laid out as [class token?, registers…, prompts…, patches…]. Parts of timm's
/// variants that are a fixed function of other tensors are folded in at load (see
/// `TimmCheckpoint`): LayerScale γ into the projection before it, absent biases as zeros.
public struct ViTConfig: Codable, Equatable, Sendable {
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var dim: Int
    public var depth: Int
    public var heads: Int
    public var mlpDim: Int
    public var classToken = true
    /// Register tokens (timm `reg_token`), after the class token.
    public var registers = 0
    /// Whether `pos_embed` has rows for the class and register tokens (false: timm `no_embed_class`).
    public var posEmbedPrefix = true
    /// A LayerNorm on the embedded tokens before the first block (timm `norm_pre`, CLIP).
    public var normPre = false
    public var headNorm = HeadNorm.pooled
    /// LayerNorm epsilon: timm's ViTs 1e-6, CLIP's 1e-5.
    public var layerNormEps: Float = 1e-6

    public init(imageSize: Int, patchSize: Int, channels: Int, dim: Int, depth: Int, heads: Int, mlpDim: Int) {
        self.imageSize = imageSize; self.patchSize = patchSize; self.channels = channels
        self.dim = dim; self.depth = depth; self.heads = heads; self.mlpDim = mlpDim
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(imageSize: try c.decode(Int.self, forKey: .imageSize), patchSize: try c.decode(Int.self, forKey: .patchSize),
                  channels: try c.decode(Int.self, forKey: .channels), dim: try c.decode(Int.self, forKey: .dim),
                  depth: try c.decode(Int.self, forKey: .depth), heads: try c.decode(Int.self, forKey: .heads),
                  mlpDim: try c.decode(Int.self, forKey: .mlpDim))
        classToken = try c.decodeIfPresent(Bool.self, forKey: .classToken) ?? true
        registers = try c.decodeIfPresent(Int.self, forKey: .registers) ?? 0
        posEmbedPrefix = try c.decodeIfPresent(Bool.self, forKey: .posEmbedPrefix) ?? true
        normPre = try c.decodeIfPresent(Bool.self, forKey: .normPre) ?? false
        headNorm = try c.decodeIfPresent(HeadNorm.self, forKey: .headNorm) ?? .pooled
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-6
    }

    public var gridSize: Int { imageSize / patchSize }
    public var numPatches: Int { gridSize * gridSize }
    /// Class and register tokens, before the prompts.
    public var prefixTokens: Int { (classToken ? 1 : 0) + registers }
    /// Sequence length with `prompts` prompt tokens.
    public func tokens(prompts: Int = 0) -> Int { prefixTokens + prompts + numPatches }
    /// Rows of `pos_embed`.
    public var posEmbedRows: Int { (posEmbedPrefix ? prefixTokens : 0) + numPatches }
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
        try check(registers >= 0 && registers <= 64, "\(registers) register tokens (0 to 64)")
        // Beyond any ViT in use: a config past these is a corrupt file, not a model to allocate.
        try check(imageSize <= 4096 && dim <= 16384 && depth <= 256 && mlpDim <= 65536 && channels <= 4 && heads <= dim,
                  "image \(imageSize), dim \(dim), depth \(depth), mlp \(mlpDim), channels \(channels) exceed the limits (4096, 16384, 256, 65536, 4)")
    }

    /// timm tensor names and shapes of the backbone (no head). The final norm is called `norm`
    /// wherever it sits (`headNorm`); the loader maps timm's `fc_norm` onto it.
    public var backboneLayout: ParameterLayout {
        var l = ParameterLayout()
        if classToken { l.add("cls_token", [1, 1, dim], decay: false) }
        if registers > 0 { l.add("reg_token", [1, registers, dim], decay: false) }
        l.add("pos_embed", [1, posEmbedRows, dim], decay: false)
        l.add("patch_embed.proj.weight", [dim, channels, patchSize, patchSize])
        l.add("patch_embed.proj.bias", [dim])
        if normPre { l.add("norm_pre.weight", [dim]); l.add("norm_pre.bias", [dim]) }
        for i in 0..<depth { BlockParams.addLayout(&l, prefix: "blocks.\(i).", dim: dim, mlp: mlpDim) }
        l.add("norm.weight", [dim])
        l.add("norm.bias", [dim])
        return l
    }
}
