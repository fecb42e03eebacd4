import Foundation

/// A pretrained backbone with what is needed to use it: architecture, input normalization,
/// the pooling its pretraining suits, provenance, and a content hash for run logs.
public struct Backbone: @unchecked Sendable {
    public let name: String
    public let path: String?
    public let config: ViTConfig
    public let params: ParameterSet
    public let norm: Normalization
    public let pooling: Pooling
    public let metadata: [String: String]
    public let hash: String

    public init(name: String, path: String?, config: ViTConfig, params: ParameterSet, norm: Normalization,
                pooling: Pooling, metadata: [String: String], hash: String) {
        self.name = name; self.path = path; self.config = config; self.params = params; self.norm = norm
        self.pooling = pooling; self.metadata = metadata; self.hash = hash
    }

    /// Names `--backbone` accepts besides a file path.
    public static var builtinNames: [String] { ["mae-tiny", "sup-tiny", "random-tiny"] }

    /// What a backbone is called on screen and in logs: a built-in's name, a file's stem.
    public static func displayName(_ nameOrPath: String) -> String {
        builtinNames.contains(nameOrPath) ? nameOrPath : ((nameOrPath as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The shipped file of a built-in name, if this build has it.
    public static func shippedPath(_ name: String) -> String? {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Backbones")?.path
    }

    /// Loads a built-in by name (`random-tiny` is a seeded random initialization, the baseline that
    /// shows what pretraining bought) or a safetensors file with timm names.
    public static func load(_ nameOrPath: String) throws -> Backbone {
        if nameOrPath == "random-tiny" {
            let c = ViTConfig.tiny
            return Backbone(name: "random-tiny", path: nil, config: c, params: c.initBackbone(seed: 0),
                            norm: .fashionMNIST, pooling: .mean, metadata: ["method": "random-init", "seed": "0"],
                            hash: "random-tiny-seed0")
        }
        let path: String
        if FileManager.default.fileExists(atPath: nameOrPath) {
            path = nameOrPath
        } else if let p = shippedPath(nameOrPath) {
            path = p
        } else {
            throw EngineError.invalidArgument("backbone \(nameOrPath): no such file, and not a built-in (\(builtinNames.joined(separator: ", ")))")
        }
        let f = try SafeTensors(path: path)
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
            config = try inferConfig(f)
        }
        do { try config.validate() } catch { throw EngineError.checkpoint(file: path, message: "\(error)") }
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
                        metadata: f.metadata, hash: try fileHash(path))
    }

    /// Architecture of a timm ViT file without our metadata, from its tensor shapes.
    static func inferConfig(_ f: SafeTensors) throws -> ViTConfig {
        func shape(_ n: String) throws -> [Int] {
            guard let e = f.entries[n] else { throw EngineError.checkpoint(file: f.path, message: "missing tensor \(n) (needed to infer the architecture)") }
            return e.shape
        }
        func fail(_ m: String) -> EngineError { .checkpoint(file: f.path, message: m + " (while inferring the architecture)") }
        let pe = try shape("patch_embed.proj.weight"), pos = try shape("pos_embed"), fc1 = try shape("blocks.0.mlp.fc1.weight")
        guard pe.count == 4, pe[2] == pe[3], pe[2] > 0 else { throw fail("patch_embed.proj.weight has shape \(pe), expected [dim, channels, patch, patch]") }
        guard pos.count == 3, pos[0] == 1, pos[2] == pe[0] else { throw fail("pos_embed has shape \(pos), expected [1, tokens, \(pe[0])]") }
        guard fc1.count == 2, fc1[1] == pe[0] else { throw fail("blocks.0.mlp.fc1.weight has shape \(fc1), expected [mlp, \(pe[0])]") }
        let depth = f.entries.keys.filter { $0.hasPrefix("blocks.") && $0.hasSuffix(".norm1.weight") }.count
        let grid = Int(Double(max(0, pos[1] - 1)).squareRoot())
        guard grid > 0, grid * grid == pos[1] - 1 else {
            throw fail("pos_embed has \(pos[1]) tokens, not a class token plus a square grid of patches")
        }
        let dim = pe[0]
        // timm's ViT heads are not in the weights; the common 64-dim head is assumed.
        return ViTConfig(imageSize: grid * pe[2], patchSize: pe[2], channels: pe[1], dim: dim, depth: depth,
                         heads: max(1, dim / 64), mlpDim: fc1[0])
    }

    /// FNV-1a 64 of the file's bytes, hex.
    static func fileHash(_ path: String) throws -> String {
        guard let d = FileManager.default.contents(atPath: path) else { throw EngineError.checkpoint(file: path, message: "cannot read") }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        d.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return String(h, radix: 16)
    }
}
