import Foundation

/// A timm VisionTransformer checkpoint: `model.safetensors` with timm's tensor names, and, when
/// present, the hub's `config.json` beside it (architecture, `model_args`, `pretrained_cfg`).
/// What the config leaves open is read off the tensors: class and register tokens, position
/// rows, LayerScale, biases, `norm_pre`, `norm` or `fc_norm`. Parts that are fixed functions of
/// other tensors are folded at load: LayerScale γ scales the projection before it (exact for a
/// frozen backbone), absent biases are zeros. A tensor the architecture does not use is an
/// error that names it, unless it is a known optional part (a head, an MAE decoder).
struct TimmCheckpoint {
    /// What `spt info` reports beside the architecture.
    struct Report {
        var architecture: String?
        var used: [String] = []
        var ignored: [(name: String, why: String)] = []
        var folded: [String] = []
        var assumed: [String] = []
    }

    let file: SafeTensors
    let hub: HubConfig?
    var report = Report()

    /// The hub's config.json, the parts this loader reads.
    struct HubConfig: Decodable {
        struct Pretrained: Decodable {
            var input_size: [Int]?
            // Double, so that a value beyond Float's range is named (as a Float it failed as "not valid JSON").
            var mean: [Double]?
            var std: [Double]?
            var interpolation: String?
            var crop_pct: Double?
            var crop_mode: String?
        }
        var architecture: String?
        var global_pool: String?
        var model_args: [String: JSONScalar]?
        var pretrained_cfg: Pretrained?

        func arg(_ k: String) -> JSONScalar? { model_args?[k] }
    }

    /// A number, bool, string or list of numbers in `model_args`.
    enum JSONScalar: Decodable {
        case number(Double), bool(Bool), string(String), list([Double]), other
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let l = try? c.decode([Double].self) { self = .list(l) }
            else { self = .other }
        }
        var int: Int? { if case .number(let d) = self { return Int(exactly: d) }; if case .list(let l) = self, let f = l.first { return Int(exactly: f) }; return nil }
        var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
        var string: String? { if case .string(let s) = self { return s }; return nil }
    }

    /// The checkpoint file and config of `path`: a hub folder, or a `.safetensors` file with an
    /// optional `config.json` beside it.
    static func locate(_ path: String) -> (weights: String, config: String?) {
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            let c = path + "/config.json"
            return (path + "/model.safetensors", fm.fileExists(atPath: c) ? c : nil)
        }
        let c = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("config.json")
        return (path, fm.fileExists(atPath: c) ? c : nil)
    }

    init(file: SafeTensors, configPath: String?) throws {
        self.file = file
        if let configPath {
            let data = try Checked.contents(configPath)
            if let where_ = JSONValue.syntaxProblem(data) { throw EngineError.checkpoint(file: configPath, message: "not JSON: \(where_)") }
            do { hub = try JSONDecoder().decode(HubConfig.self, from: data) }
            catch { throw EngineError.checkpoint(file: configPath, message: "not a timm config.json: \(JSONValue.describe(error))") }
        } else {
            hub = nil
        }
        report.architecture = hub?.architecture.map { printable($0) }
    }

    private func fail(_ m: String) -> EngineError { .checkpoint(file: file.path, message: m) }
    private func shape(_ n: String) -> [Int]? { file.entries[n]?.shape }

    /// The architecture, the pooling timm's `global_pool` asks for, and the image size the
    /// position embeddings were made for.
    mutating func config() throws -> (ViTConfig, Pooling, nativeSize: Int) {
        try refuseUnsupported()
        guard let pe = shape("patch_embed.proj.weight") else { throw fail("missing tensor patch_embed.proj.weight: not a timm ViT") }
        guard pe.count == 4, pe[2] == pe[3], pe[2] > 0 else { throw fail("patch_embed.proj.weight has shape \(pe), expected [dim, channels, patch, patch]") }
        let dim = pe[0], patch = pe[2]
        guard let pos = shape("pos_embed") else { throw fail("missing tensor pos_embed (ViTs without absolute position embeddings are not supported)") }
        guard let fc1 = shape("blocks.0.mlp.fc1.weight") else { throw fail("missing tensor blocks.0.mlp.fc1.weight") }
        guard pos.count == 3, pos[0] == 1, pos[2] == dim else { throw fail("pos_embed has shape \(pos), expected [1, tokens, \(dim)]") }
        guard fc1.count == 2, fc1[1] == dim else { throw fail("blocks.0.mlp.fc1.weight has shape \(fc1), expected [mlp, \(dim)]") }
        var depth = 0
        while file.entries["blocks.\(depth).norm1.weight"] != nil { depth += 1 }
        let classToken = file.entries["cls_token"] != nil
        var registers = 0
        if let r = shape("reg_token") {
            guard r.count == 3, r[0] == 1, r[2] == dim else { throw fail("reg_token has shape \(r), expected [1, registers, \(dim)]") }
            registers = r[1]
        }
        let prefix = (classToken ? 1 : 0) + registers
        func square(_ n: Int) -> Int? { let g = Int(Double(n).squareRoot().rounded()); return g > 0 && g * g == n ? g : nil }
        // pos_embed covers the prefix tokens unless timm's no_embed_class: the rows tell which.
        // When both readings are square (5 prefix rows + 4 = 9), the config's image size decides;
        // without one, register models are read as no_embed_class, as timm builds them.
        let noEmbedClass = hub?.arg("no_embed_class")?.bool
        let sizeGrid = (hub?.arg("img_size")?.int ?? hub?.pretrained_cfg?.input_size.flatMap { $0.count == 3 ? $0[2] : nil }).map { $0 / patch }
        var readings: [(grid: Int, prefix: Bool)] = []
        if noEmbedClass != true, prefix > 0, let g = square(pos[1] - prefix) { readings.append((g, true)) }
        if noEmbedClass != false, let g = square(pos[1]) { readings.append((g, false)) }
        if readings.count == 2 {
            if let sizeGrid, let r = readings.first(where: { $0.grid == sizeGrid }) { readings = [r] }
            else { readings = [readings[registers > 0 ? 1 : 0]]; report.assumed.append("pos_embed rows: \(readings[0].prefix ? "with" : "without") class/register rows (both fit)") }
        }
        guard let (grid, posPrefix) = readings.first else {
            throw fail("pos_embed has \(pos[1]) rows: neither \(prefix) class/register rows plus a square grid of patches, nor a square grid (no_embed_class)")
        }
        let hasNorm = file.entries["norm.weight"] != nil, hasFcNorm = file.entries["fc_norm.weight"] != nil
        guard hasNorm != hasFcNorm else {
            throw fail(hasNorm ? "both norm and fc_norm tensors: not a timm ViT layout" : "no final norm (timm final_norm=False) is not supported")
        }
        // A config.json that contradicts the tensors is a mismatched pair: named, never ignored.
        func agree(_ key: String, _ tensors: Int) throws {
            if let v = hub?.arg(key)?.int, v != tensors { throw fail("config.json's model_args say \(key) \(v), the tensors \(tensors)") }
        }
        try agree("embed_dim", dim); try agree("depth", depth); try agree("reg_tokens", registers)
        try agree("in_chans", pe[1]); try agree("patch_size", patch)
        if let ct = hub?.arg("class_token")?.bool, ct != classToken {
            throw fail("config.json's model_args say class_token \(ct), the tensors \(classToken ? "have" : "have no") cls_token")
        }
        if hub?.arg("qk_norm")?.bool == true { throw fail("query/key normalization (qk_norm, from config.json) is not supported") }
        var heads = max(1, dim / 64)
        if let h = hub?.arg("num_heads")?.int { heads = h } else { report.assumed.append("heads: \(heads) (64 per head; no num_heads in a config.json)") }
        var c = ViTConfig(imageSize: grid * patch, patchSize: patch, channels: pe[1], dim: dim, depth: depth, heads: heads, mlpDim: fc1[0])
        c.classToken = classToken; c.registers = registers; c.posEmbedPrefix = posPrefix
        c.normPre = file.entries["norm_pre.weight"] != nil
        c.headNorm = hasFcNorm ? .pooled : .tokens
        // timm builds its CLIP ViTs with torch's LayerNorm default, eps 1e-5; the others with 1e-6.
        if let arch = hub?.architecture { c.layerNormEps = arch.contains("clip") ? 1e-5 : 1e-6 }
        else if c.normPre { c.layerNormEps = 1e-5; report.assumed.append("LayerNorm eps 1e-5 (norm_pre without a config.json: read as CLIP)") }
        if hub?.arg("act_layer")?.string == "quick_gelu" || hub?.architecture?.contains("quickgelu") == true {
            throw fail("QuickGELU activations (OpenAI CLIP) are not supported")
        }
        let pool = hub?.global_pool ?? hub?.arg("global_pool")?.string
        let pooling: Pooling
        switch pool {
        case "token": pooling = .cls
        case "avg": pooling = .mean
        case nil, "":
            // No pooling in the config (timm's MAE build): the class token if there is one.
            pooling = classToken && !hasFcNorm ? .cls : .mean
            report.assumed.append("pooling: \(pooling == .cls ? "class token" : "mean") (\(pool == nil ? "no config.json" : "global_pool ''"))")
        case let p?: throw fail("global_pool '\(p)' is not supported (token and avg are)")
        }
        if pooling == .cls && !classToken { throw fail("global_pool 'token' without a class token") }
        return (c, pooling, grid * patch)
    }

    /// Names the timm features this engine does not implement, by the tensors that reveal them.
    private func refuseUnsupported() throws {
        let names = file.entries.keys
        let features: [(String, String)] = [
            (".attn.q_norm.", "query/key normalization (qk_norm)"), (".mlp.fc1_g.", "gated MLP (SwiGLU)"),
            (".mlp.w12.", "gated MLP (SwiGLU)"), ("attn_pool.", "attention pooling (global_pool 'map')"),
            (".attn.norm.", "attention-output norm (scale_attn_norm)"), (".mlp.norm.", "MLP norm (scale_mlp_norm)"),
            ("patch_embed.norm.", "a norm after the patch embedding"), ("rope", "rotary position embeddings"),
        ]
        for (marker, what) in features {
            if let n = names.first(where: { $0.contains(marker) }) { throw fail("\(what) is not supported (tensor \(n))") }
        }
    }

    /// The tensors of `layout` from the file, with LayerScale folded, absent biases zero and the
    /// position embeddings resampled to `config.imageSize` when it differs from `nativeSize`.
    mutating func load(_ config: ViTConfig, nativeSize: Int) throws -> ParameterSet {
        let layout = config.backboneLayout
        var consumed = Set<String>()
        func source(_ name: String) -> String {
            name.hasPrefix("norm.") && config.headNorm == .pooled ? "fc_" + name : name
        }
        let optionalBias: (String) -> Bool = { n in
            n == "patch_embed.proj.bias" || n.hasSuffix("attn.qkv.bias") || n.hasSuffix("attn.proj.bias") || n.hasSuffix("mlp.fc1.bias") || n.hasSuffix("mlp.fc2.bias")
        }
        // Check every shape before allocating anything.
        for spec in layout.specs {
            let src = source(spec.name)
            guard let e = file.entries[src] else {
                if optionalBias(spec.name) { continue }
                throw fail("missing tensor \(src)")
            }
            let expected = spec.name == "pos_embed" ? [1, (config.posEmbedPrefix ? config.prefixTokens : 0) + (nativeSize / config.patchSize) * (nativeSize / config.patchSize), config.dim] : spec.shape
            guard e.shape == expected else { throw fail("tensor \(src) has shape \(e.shape), expected \(expected)") }
        }
        for i in 0..<config.depth {
            for ls in ["ls1.gamma", "ls2.gamma"] where file.entries["blocks.\(i).\(ls)"] != nil {
                guard shape("blocks.\(i).\(ls)") == [config.dim] else { throw fail("tensor blocks.\(i).\(ls) has shape \(shape("blocks.\(i).\(ls)")!), expected [\(config.dim)]") }
            }
        }
        try refuseUnknown(layout: layout, source: source)
        let params = ParameterSet(layout)
        for spec in layout.specs {
            let src = source(spec.name)
            guard file.entries[src] != nil else { report.folded.append("\(spec.name): absent, zero"); continue }
            var v = try file.floats(src)
            guard v.allSatisfy(\.isFinite) else { throw fail("tensor \(src) holds NaN or Inf") }
            if spec.name == "pos_embed" && nativeSize != config.imageSize { v = resamplePositions(v, config: config, from: nativeSize) }
            params.set(spec.name, v)
            consumed.insert(src)
        }
        for i in 0..<config.depth {
            for (ls, target) in [("ls1.gamma", "attn.proj"), ("ls2.gamma", "mlp.fc2")] {
                let name = "blocks.\(i).\(ls)"
                guard file.entries[name] != nil else { continue }
                let g = try file.floats(name)
                guard g.allSatisfy(\.isFinite) else { throw fail("tensor \(name) holds NaN or Inf") }
                let w = params.ptr("blocks.\(i).\(target).weight"), b = params.ptr("blocks.\(i).\(target).bias"), cols = params.layout.spec("blocks.\(i).\(target).weight")!.shape[1]
                for r in 0..<config.dim {
                    for k in 0..<cols { w[r * cols + k] *= g[r] }
                    b[r] *= g[r]
                }
                consumed.insert(name)
                if i == 0 { report.folded.append("LayerScale γ (blocks.*.\(ls)) folded into blocks.*.\(target)") }
            }
        }
        report.used = consumed.sorted()
        return params
    }

    /// Throws on any file tensor the architecture does not read, listing them; records the known
    /// optional ones (head, MAE decoder) as ignored.
    private mutating func refuseUnknown(layout: ParameterLayout, source: (String) -> String) throws {
        let read = Set(layout.specs.map { source($0.name) })
        var unknown: [String] = []
        for name in file.entries.keys.sorted() where !read.contains(name) {
            if name.hasSuffix(".ls1.gamma") || name.hasSuffix(".ls2.gamma") { continue }
            if name.hasPrefix("head.") { report.ignored.append((name, "classifier head (replaced by the task's)")) }
            else if name.hasPrefix("decoder") || name == "mask_token" { report.ignored.append((name, "MAE decoder")) }
            else { unknown.append(name) }
        }
        guard unknown.isEmpty else {
            let shown = unknown.prefix(8).joined(separator: ", ") + (unknown.count > 8 ? " and \(unknown.count - 8) more" : "")
            throw fail("\(unknown.count) tensor(s) that a timm ViT of this layout does not use: \(shown)")
        }
    }

    /// timm's `resample_abs_pos_embed`: the patch rows as a grid, resized bicubic with antialias;
    /// class and register rows unchanged.
    private func resamplePositions(_ v: [Float], config c: ViTConfig, from native: Int) -> [Float] {
        let D = c.dim, prefix = c.posEmbedPrefix ? c.prefixTokens : 0, g0 = native / c.patchSize, g1 = c.gridSize
        let grid = Resample.resize(Array(v[(prefix * D)...]), height: g0, width: g0, channels: D, toHeight: g1, toWidth: g1, filter: .bicubic)
        return Array(v[..<(prefix * D)]) + grid
    }

    /// The image size runs use unless told otherwise: the config's `input_size`, else the
    /// size the position embeddings were made for.
    func defaultImageSize(native: Int) -> Int { hub?.pretrained_cfg?.input_size.flatMap { $0.count == 3 ? $0[2] : nil } ?? native }

    /// The eval transform and statistics of `pretrained_cfg`; without a config.json, those of
    /// timm's original ViT weights (mean and std 0.5, crop 0.9, bicubic), said so in the report.
    mutating func preprocessing(size: Int) throws -> (ImagePreprocessing, Normalization) {
        let p = hub?.pretrained_cfg
        if p == nil { report.assumed.append("preprocessing: timm's ViT defaults (mean/std 0.5, crop_pct 0.9, bicubic; no pretrained_cfg)") }
        var filter = Resample.Filter.bicubic
        if let i = p?.interpolation {
            guard let f = Resample.Filter(rawValue: i) else { throw fail("interpolation '\(i)' is not supported (bicubic and bilinear are)") }
            filter = f
        }
        var pre = ImagePreprocessing(size: size, mode: .crop, cropPct: p?.crop_pct ?? 0.9, interpolation: filter)
        switch p?.crop_mode {
        case "squash": pre.mode = .squash
        case nil, "center": break
        case let m?: report.assumed.append("crop_mode '\(m)' read as 'center' (crop and squash are supported; --resize overrides)")
        }
        guard pre.cropPct > 0.05, pre.cropPct <= 1 else { throw fail("crop_pct \(pre.cropPct) is outside (0.05, 1]") }
        func floats(_ key: String, _ v: [Double]?) throws -> [Float] {
            guard let v else { return [0.5, 0.5, 0.5] }
            guard let bad = v.firstIndex(where: { !Float($0).isFinite }) else { return v.map(Float.init) }
            throw fail("pretrained_cfg.\(key)[\(bad)] \(v[bad]) is not a finite Float")
        }
        return (pre, Normalization(mean: try floats("mean", p?.mean), std: try floats("std", p?.std)))
    }

    /// The checkpoint's own classifier, when it has one for features of `dim`.
    func head(dim: Int) throws -> (weight: [Float], bias: [Float])? {
        guard let w = shape("head.weight"), w.count == 2, w[1] == dim, w[0] > 0, shape("head.bias") == [w[0]] else { return nil }
        return (try file.floats("head.weight"), try file.floats("head.bias"))
    }
}
