import Foundation

/// A pretrained backbone with what is needed to use it: architecture, input preprocessing and
/// normalization, the pooling its pretraining suits, provenance, and a content hash for run logs.
public struct Backbone: @unchecked Sendable {
    public let name: String
    public let path: String?
    public let config: ViTConfig
    public let params: ParameterSet
    public var norm: Normalization
    public let pooling: Pooling
    public let metadata: [String: String]
    public let hash: String
    /// How image files become this backbone's input (image folders only).
    public var preprocessing: ImagePreprocessing
    /// The checkpoint's own classifier (timm checkpoints with a head), [K, D] and [K].
    public var head: (weight: [Float], bias: [Float])?
    /// What loading read, folded, ignored and assumed (timm checkpoints; `spt info`).
    public var loadReport: [String] = []
    /// Family and origin, for `spt info`.
    public var family = "spt"

    public init(name: String, path: String?, config: ViTConfig, params: ParameterSet, norm: Normalization,
                pooling: Pooling, metadata: [String: String], hash: String, preprocessing: ImagePreprocessing? = nil) {
        self.name = name; self.path = path; self.config = config; self.params = params; self.norm = norm
        self.pooling = pooling; self.metadata = metadata; self.hash = hash
        self.preprocessing = preprocessing ?? ImagePreprocessing(size: config.imageSize, mode: .squash)
    }

    /// Names `--backbone` accepts besides a file path.
    public static var builtinNames: [String] { ["mae-tiny", "sup-tiny", "random-tiny"] }

    /// What a backbone is called on screen and in logs: a built-in's name, a file's stem.
    public static func displayName(_ nameOrPath: String) -> String {
        if builtinNames.contains(nameOrPath) { return nameOrPath }
        let stem = ((nameOrPath as NSString).lastPathComponent as NSString).deletingPathExtension
        // A hub folder's weights are all called model.safetensors: the folder names them.
        return stem == "model" ? ((nameOrPath as NSString).deletingLastPathComponent as NSString).lastPathComponent : stem
    }

    /// The shipped file of a built-in name, if this build has it.
    public static func shippedPath(_ name: String) -> String? {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Backbones")?.path
    }

    /// Loads a built-in by name (`random-tiny` is a seeded random initialization, the baseline that
    /// shows what pretraining bought), a file this project wrote, or a timm checkpoint (a
    /// `.safetensors` file, with a `config.json` beside it when there is one, or a hub folder).
    /// `imageSize` runs a timm backbone at another resolution (position embeddings resampled).
    public static func load(_ nameOrPath: String, imageSize: Int? = nil) throws -> Backbone {
        if nameOrPath == "random-tiny" {
            let c = ViTConfig.tiny
            return Backbone(name: "random-tiny", path: nil, config: c, params: c.initBackbone(seed: 0),
                            norm: .fashionMNIST, pooling: .mean, metadata: ["method": "random-init", "seed": "0"],
                            hash: "random-tiny-seed0")
        }
        let path: String, configPath: String?
        if FileManager.default.fileExists(atPath: nameOrPath) {
            (path, configPath) = TimmCheckpoint.locate(nameOrPath)
        } else if let p = shippedPath(nameOrPath) {
            (path, configPath) = (p, nil)
        } else {
            throw EngineError.invalidArgument("backbone \(nameOrPath): \(RegularFile.whyMissing(nameOrPath)), and not a built-in (\(builtinNames.joined(separator: ", ")))")
        }
        let f = try SafeTensors(path: path)
        if f.metadata["config"] == nil && f.metadata["options"] == nil {
            return try loadTimm(f, configPath: configPath, name: displayName(nameOrPath), imageSize: imageSize)
        }
        let config: ViTConfig
        // A pretraining state file (spt pretrain's resumable checkpoint) is a backbone too.
        let pretrain = f.metadata["options"].flatMap { try? JSONDecoder().decode(PretrainOptions.self, from: Data($0.utf8)) }
        if let pretrain {
            config = pretrain.config
        } else if let j = f.metadata["config"] {
            guard let c = try? JSONDecoder().decode(ViTConfig.self, from: Data(j.utf8)) else {
                throw EngineError.checkpoint(file: path, message: "metadata entry 'config' is not a valid config")
            }
            config = c
        } else {
            preconditionFailure("files without metadata load as timm checkpoints")
        }
        do { try config.validate() } catch { throw EngineError.checkpoint(file: path, message: "\(error)") }
        if let imageSize, imageSize != config.imageSize {
            throw EngineError.invalidArgument("--image-size \(imageSize): this project's own backbones run at the size they were trained at (\(config.imageSize))")
        }
        try f.check(config.backboneLayout)
        let params = ParameterSet(config.backboneLayout)
        try f.load(into: params)
        var norm = Normalization(mean: Array(repeating: 0.5, count: config.channels), std: Array(repeating: 0.5, count: config.channels))
        if let j = f.metadata["normalization"] {
            guard let n = try? JSONDecoder().decode(Normalization.self, from: Data(j.utf8)) else {
                throw EngineError.checkpoint(file: path, message: "metadata entry 'normalization' is not {\"mean\": [...], \"std\": [...]}")
            }
            norm = n
        }
        if let pretrain { norm = pretrain.norm }
        if let problem = norm.problem(channels: config.channels) {
            throw EngineError.checkpoint(file: path, message: "normalization: \(problem)")
        }
        let pooling = f.metadata["pooling"].flatMap(Pooling.init(rawValue:)) ?? (pretrain.map { $0.method == .mae ? .mean : .cls } ?? .cls)
        let name = displayName(path)
        return Backbone(name: name, path: path, config: config, params: params, norm: norm, pooling: pooling,
                        metadata: f.metadata, hash: f.contentHash)
    }

    /// A timm checkpoint: architecture from config.json and tensors, preprocessing from
    /// `pretrained_cfg`, head kept for `spt embed`'s logits.
    static func loadTimm(_ f: SafeTensors, configPath: String?, name: String, imageSize: Int?) throws -> Backbone {
        var ckpt = try TimmCheckpoint(file: f, configPath: configPath)
        var (config, pooling, native) = try ckpt.config()
        config.imageSize = imageSize ?? ckpt.defaultImageSize(native: native)
        do { try config.validate() } catch { throw EngineError.checkpoint(file: f.path, message: "\(error)") }
        let params = try ckpt.load(config, nativeSize: native)
        if config.imageSize != native {
            ckpt.report.folded.append("pos_embed: \(native / config.patchSize)² grid resampled to \(config.gridSize)² (bicubic, antialiased)")
        }
        let (pre, norm) = try ckpt.preprocessing(size: config.imageSize)
        if let problem = norm.problem(channels: config.channels) {
            throw EngineError.checkpoint(file: configPath ?? f.path, message: "normalization: \(problem)")
        }
        var b = Backbone(name: name, path: f.path, config: config, params: params, norm: norm, pooling: pooling,
                         metadata: f.metadata, hash: f.contentHash, preprocessing: pre)
        b.head = try ckpt.head(dim: config.dim)
        b.family = "timm" + (ckpt.report.architecture.map { " \($0)" } ?? "") + (configPath == nil ? " (no config.json)" : "")
        let r = ckpt.report
        b.loadReport = r.assumed.map { "assumed  \($0)" } + r.folded.map { "folded   \($0)" }
            + r.ignored.map { "ignored  \($0.name): \($0.why)" } + ["used     \(r.used.count) tensors"]
        return b
    }

}

/// What a user may change about how images reach a backbone: the resolution (timm checkpoints;
/// position embeddings resampled), crop or squash, and the normalization statistics.
public struct InputOverrides: Sendable, Equatable {
    public var imageSize: Int?
    public var resize: ImagePreprocessing.Mode?
    public var mean: [Float]?
    public var std: [Float]?
    public init(imageSize: Int? = nil, resize: ImagePreprocessing.Mode? = nil, mean: [Float]? = nil, std: [Float]? = nil) {
        self.imageSize = imageSize; self.resize = resize; self.mean = mean; self.std = std
    }
}

extension Backbone {
    /// Loads `nameOrPath` with the overrides applied and checked.
    public static func load(_ nameOrPath: String, overrides o: InputOverrides) throws -> Backbone {
        if let s = o.imageSize { try OptionCheck.require(s >= 8 && s <= 4096, "image-size", s, "must be 8…4096") }
        var b = try load(nameOrPath, imageSize: o.imageSize)
        if let r = o.resize { b.preprocessing.mode = r }
        if o.mean != nil || o.std != nil {
            let n = Normalization(mean: o.mean ?? b.norm.mean, std: o.std ?? b.norm.std)
            if let problem = n.problem(channels: b.config.channels) { throw EngineError.invalidArgument("--mean/--std: \(problem)") }
            b.norm = n
        }
        return b
    }

    /// A task's data as this backbone sees it: image folders preprocessed as it says.
    public func loadTask(_ nameOrPath: String) throws -> DataSplits {
        try TaskCatalog.load(nameOrPath, imageSize: config.imageSize, preprocessing: preprocessing)
    }

    /// What `spt info` prints: the architecture as understood, preprocessing, what loading did.
    public var description: [String] {
        let c = config
        let tokens = [c.classToken ? "class token" : "no class token", c.registers > 0 ? "\(c.registers) registers" : nil,
                      "\(c.numPatches) patches (\(c.gridSize)×\(c.gridSize))"].compactMap { $0 }
        let headNorm = c.headNorm == .tokens ? "final LayerNorm on every token, then pooling" : "pooling, then the final LayerNorm"
        var lines = [
            "\(name): \(family)",
            "  architecture  ViT, dim \(c.dim), depth \(c.depth), heads \(c.heads), mlp \(c.mlpDim), patch \(c.patchSize), input \(c.channels)×\(c.imageSize)²",
            "  tokens        \(tokens.joined(separator: ", "))\(c.posEmbedPrefix || c.prefixTokens == 0 ? "" : "; position rows for patches only (no_embed_class)")",
            "  blocks        pre-norm\(c.normPre ? ", norm_pre before the first block" : ""), LayerNorm eps \(c.layerNormEps)",
            "  head input    \(pooling == .cls ? "class token" : "mean of tokens after the class/register tokens"); \(headNorm)",
            "  parameters    \(params.layout.count) (\(String(format: "%.2f", Double(params.layout.count) / 1e6)) M)\(head.map { "; own head for \($0.bias.count) classes (kept for spt embed)" } ?? "")",
            "  preprocessing \(preprocessing.summary)",
            "  normalization mean \(norm.mean), std \(norm.std)",
        ]
        lines += loadReport.map { "  \($0)" }
        for k in metadata.keys.sorted() where !["config", "options"].contains(k) { lines.append("  metadata \(k): \(metadata[k]!.prefix(120))") }
        if let path { lines.append("  file \(path) (hash \(hash))") }
        return lines
    }
}
