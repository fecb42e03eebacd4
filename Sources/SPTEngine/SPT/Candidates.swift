import Foundation

/// Candidate tokens per layer from a prompt-free pass of the frozen backbone: layer 0 holds the
/// patch embeddings before the position embedding; layer i ≥ 1 the output of block i−1 without
/// the class and register tokens. Each layer is [images · m, D], image-major.
///
/// Small sets stay in memory. When all layers together would exceed `memoryBudget` (a deep run
/// on a ViT-B: 12 layers × 1000 images × 196 × 768 floats = 7.2 GB), each layer goes to a
/// half-precision file as the pass produces it, and readers take one layer (K-means) or a few
/// images (pooling, sampling) at a time. The files are unlinked as soon as they are open, so
/// nothing is left behind however the process ends.
public final class Candidates: @unchecked Sendable {
    public let images: Int
    public let tokensPerImage: Int
    public let dim: Int
    public let layerCount: Int
    public let seconds: Double
    private let memory: [[Float]]?
    private let files: [Int32]

    /// Bytes all layers take in memory as Float.
    public static func bytes(images: Int, tokensPerImage m: Int, dim: Int, layers: Int) -> Int { layers * images * m * dim * 4 }
    /// Above this, layers go to half-precision files.
    public static let memoryBudget = 1 << 30

    public init(memory: [[Float]], images: Int, tokensPerImage: Int, dim: Int, seconds: Double) {
        self.memory = memory; files = []; layerCount = memory.count
        self.images = images; self.tokensPerImage = tokensPerImage; self.dim = dim; self.seconds = seconds
    }

    private init(files: [Int32], images: Int, tokensPerImage: Int, dim: Int, seconds: Double) {
        memory = nil; self.files = files; layerCount = files.count
        self.images = images; self.tokensPerImage = tokensPerImage; self.dim = dim; self.seconds = seconds
    }

    deinit { files.forEach { close($0) } }

    /// Whether the layers live in files rather than memory.
    public var onDisk: Bool { memory == nil }

    /// Every token of layer `l`, [images · m, D].
    public func layer(_ l: Int) -> [Float] { tokens(layer: l, images: 0..<images) }

    /// The tokens of images `range` of layer `l`, image-major.
    public func tokens(layer l: Int, images range: Range<Int>) -> [Float] {
        let row = tokensPerImage * dim
        if let memory { return Array(memory[l][(range.lowerBound * row)..<(range.upperBound * row)]) }
        var half = [Float16](repeating: 0, count: range.count * row)
        let bytes = half.count * 2, offset = off_t(range.lowerBound * row * 2)
        half.withUnsafeMutableBytes { buf in
            var done = 0
            while done < bytes {
                let n = pread(files[l], buf.baseAddress! + done, bytes - done, offset + off_t(done))
                precondition(n > 0, "token file of layer \(l): \(String(cString: strerror(errno)))")
                done += n
            }
        }
        return half.map(Float.init)
    }

    /// The tokens of the given images of layer `l`, in that order.
    public func tokens(layer l: Int, images picks: [Int]) -> [Float] {
        picks.flatMap { tokens(layer: l, images: $0..<($0 + 1)) }
    }

    /// Runs the frozen backbone without prompts over all of `data`, keeping layers 0..<`layerCount`
    /// (in files when they exceed `memoryBudget`, in `directory`: TMPDIR, else /var/tmp).
    /// `progress(done, total)` is called after each batch.
    public static func gather(backbone: Backbone, data: Dataset, layerCount: Int, batch: Int? = nil,
                              memoryBudget: Int = memoryBudget, directory: String? = nil, precision: Precision = .fp32,
                              progress: (Int, Int) -> Void = { _, _ in }) throws -> Candidates {
        let start = Date()
        let model = ViTClassifier(config: backbone.config, backbone: backbone.params, numClasses: data.classes,
                                  prompts: PromptSpec(count: 0), pooling: backbone.pooling, mode: .linear, precision: precision)
        let batcher = Batcher(channels: backbone.config.channels, size: backbone.config.imageSize, norm: backbone.norm)
        let c = model.config, m = c.numPatches, D = c.dim, T = c.tokens(), N = data.count
        let batch = batch ?? Workspaces.inferenceBatch(c, T: T)
        let toDisk = bytes(images: N, tokensPerImage: m, dim: D, layers: layerCount) > memoryBudget
        var layers = toDisk ? [] : (0..<layerCount).map { _ in [Float](repeating: 0, count: N * m * D) }
        let files = toDisk ? try openFiles(layerCount, bytesEach: N * m * D * 2, directory: directory) : []
        var failure: Error?
        func store(_ l: Int, _ src: FPtr, first: Int, n: Int, stride: Int, offset: Int) {
            if toDisk {
                var half = [Float16](repeating: 0, count: n * m * D)
                for b in 0..<n { for k in 0..<(m * D) { half[b * m * D + k] = Float16(src[b * stride + offset + k]) } }
                if failure == nil {
                    do { try writeAll(files[l], half, at: first * m * D * 2) } catch { failure = error }
                }
            } else {
                layers[l].withUnsafeMutableBufferPointer { dst in
                    for b in 0..<n { (dst.baseAddress! + (first + b) * m * D).update(from: src + b * stride + offset, count: m * D) }
                }
            }
        }
        let input = Buffer([batch, c.channels, c.imageSize, c.imageSize])
        var rng = RNG(seed: 0)
        var i = 0
        progress(0, N)
        while i < N {
            let n = min(batch, N - i), first = i
            batcher.fill(input.ptr, from: data, indices: Array(i..<(i + n))[...], rng: &rng)
            // Block l's input is block l−1's output: taken as the inference pass reaches it.
            model.forward(images: input.ptr, B: n, withPrompts: false, inference: true, observe: { l, a in
                guard l >= 1, l < layerCount else { return }
                store(l, a.xin.ptr, first: first, n: n, stride: T * D, offset: c.prefixTokens * D)
            }, rng: &rng)
            store(0, model.patchEmbeddings.ptr, first: first, n: n, stride: m * D, offset: 0)
            if let failure { files.forEach { close($0) }; throw failure }
            i += n
            progress(i, N)
        }
        let seconds = Date().timeIntervalSince(start)
        return toDisk ? Candidates(files: files, images: N, tokensPerImage: m, dim: D, seconds: seconds)
                      : Candidates(memory: layers, images: N, tokensPerImage: m, dim: D, seconds: seconds)
    }

    /// Unlinked files for the layers, after checking the directory has room for them.
    private static func openFiles(_ count: Int, bytesEach: Int, directory: String?) throws -> [Int32] {
        let dir = directory ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/var/tmp"
        var fs = statvfs()
        if statvfs(dir, &fs) == 0 {
            let free = Int(fs.f_bavail) * Int(fs.f_frsize), need = count * bytesEach
            guard free > need else {
                throw EngineError.data(file: dir, message: "token gathering needs \(need >> 20) MB of disk for \(count) layers, \(free >> 20) MB free (set TMPDIR to a larger disk, or use fewer images: --kmeans-images)")
            }
        }
        return try (0..<count).map { l in
            let path = "\(dir)/spt-tokens-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))-\(l)"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw EngineError.data(file: path, message: "cannot create: \(String(cString: strerror(errno)))") }
            unlink(path)
            return fd
        }
    }

    private static func writeAll(_ fd: Int32, _ values: [Float16], at offset: Int) throws {
        try values.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw EngineError.data(file: "token file", message: "write failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }
}
