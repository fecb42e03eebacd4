import Foundation
import Testing
import SPTEngine

/// Numbers inside files never index memory or size an allocation unchecked: each malformed
/// file gets an error that names it (and the position), never a crash or a huge allocation.
@Suite struct HostileFileTests {
    let dataTests = DataTests(), images = ImageFormatTests()

    func expectError(_ text: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do { try body(); Issue.record("no error; expected “\(text)”", sourceLocation: sourceLocation) } catch {
            #expect("\(error)".contains(text), "\(error)", sourceLocation: sourceLocation)
        }
    }

    func writeIDX(_ d: String, images: (n: UInt32, r: UInt32, c: UInt32, bytes: Int), trainLabels: [UInt8], testLabels: [UInt8]) throws {
        for (prefix, labels) in [("train", trainLabels), ("t10k", testLabels)] {
            try dataTests.idx(magic: 0x803, dims: [images.n, images.r, images.c], bytes: Array(repeating: 7, count: images.bytes))
                .write(to: URL(fileURLWithPath: "\(d)/\(prefix)-images-idx3-ubyte"))
            try dataTests.idx(magic: 0x801, dims: [UInt32(labels.count)], bytes: labels).write(to: URL(fileURLWithPath: "\(d)/\(prefix)-labels-idx1-ubyte"))
        }
    }

    @Test func idxCountsThatOverflowOrExceedTheFile() throws {
        let d = dataTests.dir()
        // n·rows·cols = 2³²·2¹²·2¹² wraps a 64-bit product to 0 without checks.
        try writeIDX(d, images: (0xFFFF_FFFF, 4096, 4096, 16), trainLabels: [0], testLabels: [0])
        expectError("train-images-idx3-ubyte: truncated: header promises 4294967295 images of 4096×4096") {
            _ = try TaskCatalog.load(d, imageSize: 28)
        }
        try writeIDX(d, images: (1, 0, 28, 0), trainLabels: [0], testLabels: [0])
        expectError("claims 1 images of 0×28") { _ = try TaskCatalog.load(d, imageSize: 28) }
    }

    @Test func idxLabelsOutsideTheClasses() throws {
        let d = dataTests.dir()
        // A test label no training image has: logits would be read out of bounds.
        try writeIDX(d, images: (3, 2, 2, 12), trainLabels: [0, 1, 2], testLabels: [0, 1, 7])
        expectError("t10k-labels-idx1-ubyte: label 7 at offset 10 is out of range 0..<3") { _ = try TaskCatalog.load(d, imageSize: 28) }
        // One corrupt byte (255) among 3 classes would make 256 classes.
        try writeIDX(d, images: (3, 2, 2, 12), trainLabels: [0, 255, 2], testLabels: [0, 1, 2])
        expectError("train-labels-idx1-ubyte: label 255 at offset 9 makes 256 classes, but class 1 has no image") {
            _ = try TaskCatalog.load(d, imageSize: 28)
        }
    }

    /// A PNG whose header claims 10⁶×10⁶ pixels (3 TB) is refused before any allocation.
    @Test func pngHeaderClaimingHugeDimensions() throws {
        let d = images.dir()
        for split in ["train", "test"] { try FileManager.default.createDirectory(atPath: "\(d)/\(split)/a", withIntermediateDirectories: true) }
        images.writePNG("\(d)/test/a/ok.png", w: 2, h: 2, format: images.gray, pixels: [0, 1, 2, 3])
        var png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(d)/test/a/ok.png")))
        // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC follows at 29.
        for (i, b) in withUnsafeBytes(of: UInt32(1_000_000).bigEndian, Array.init).enumerated() { png[16 + i] = b; png[20 + i] = b }
        for (i, b) in withUnsafeBytes(of: crc32(png[12..<29]).bigEndian, Array.init).enumerated() { png[29 + i] = b }
        try Data(png).write(to: URL(fileURLWithPath: "\(d)/train/a/huge.png"))
        expectError("huge.png: header claims 1000000×1000000 pixels, more than the 89-megapixel limit") {
            _ = try TaskCatalog.load(d, imageSize: 28)
        }
    }

    /// A 1×20000 strip is small decoded but 15.7 GB once its short side is resized to the crop's
    /// scale: refused, by name, before that allocation (it aborted the process).
    @Test func aStripWhoseResizeExceedsThePixelLimit() throws {
        let d = images.dir()
        for split in ["train", "test"] { try FileManager.default.createDirectory(atPath: "\(d)/\(split)/a", withIntermediateDirectories: true) }
        images.writePNG("\(d)/test/a/ok.png", w: 2, h: 2, format: images.gray, pixels: [0, 1, 2, 3])
        images.writePNG("\(d)/train/a/strip.png", w: 1, h: 20000, format: images.gray, pixels: [UInt8](repeating: 9, count: 20000))
        expectError("strip.png: 1×20000 resized by its shorter side to 256×5120000 pixels, more than the 89-megapixel limit") {
            _ = try ImageFolderReader.load(directory: d, name: "strip", preprocessing: ImagePreprocessing(size: 224, mode: .crop))
        }
    }

    /// What decoding a folder will hold is checked before the first image is decoded: at an image
    /// size no memory holds, the folder is refused by name at once (it decoded first).
    @Test func decodingMoreThanMemoryHoldsIsRefusedFirst() throws {
        let d = images.dir()
        for split in ["train", "test"] { try FileManager.default.createDirectory(atPath: "\(d)/\(split)/a", withIntermediateDirectories: true) }
        images.writePNG("\(d)/train/a/x.png", w: 2, h: 2, format: images.gray, pixels: [0, 1, 2, 3])
        images.writePNG("\(d)/test/a/y.png", w: 2, h: 2, format: images.gray, pixels: [0, 1, 2, 3])
        expectError("2 images at 100000×100000 need") {
            _ = try ImageFolderReader.load(directory: d, name: "big", preprocessing: ImagePreprocessing(size: 100_000, mode: .squash))
        }
    }

    /// A broken config.json beside a checkpoint is named with the line and column where it stops
    /// being JSON, and a value that does not fit (a mean of 1e39 for a Float) with its key path.
    @Test func configJSONErrorsSayWhere() throws {
        let d = images.dir()
        try FileManager.default.copyItem(atPath: TimmConformanceTests.root + "/deit3/model.safetensors", toPath: d + "/model.safetensors")
        try Data("{\"architecture\": \"vit\",\n  \"model_args\": {\"embed_dim\" 8}}".utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
        expectError("config.json: not JSON: line 2, column 30 (byte 53): expected ':'") { _ = try Backbone.load(d) }
        try Data(#"{"pretrained_cfg": {"mean": [1e39, 0, 0]}}"#.utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
        expectError("pretrained_cfg.mean[0] 1e+39 is not a finite Float") { _ = try Backbone.load(d) }
        // model_args that contradict the tensors are named, not ignored.
        for (args, text) in [(#""embed_dim": 768"#, "model_args say embed_dim 768, the tensors 32"), (#""depth": 12"#, "say depth 12, the tensors 2"),
                             (#""class_token": false"#, "say class_token false"), (#""qk_norm": true"#, "qk_norm, from config.json")] {
            try Data("{\"model_args\": {\(args)}}".utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
            expectError(text) { _ = try Backbone.load(d) }
        }
        // An architecture name with an escape sequence reaches `spt info` escaped, not as a command to the terminal.
        try Data(#"{"architecture": "vit\u001b[2J"}"#.utf8).write(to: URL(fileURLWithPath: d + "/config.json"))
        let text = try Backbone.load(d).description.joined(separator: "\n")
        #expect(!text.contains("\u{1B}") && text.contains("vit\\u{1B}[2J"), "\(text)")
    }

    /// A FIFO named like an image would block the reader forever.
    @Test func aFIFOInAClassFolderIsNamedNotRead() throws {
        let d = images.dir()
        for split in ["train", "test"] {
            try FileManager.default.createDirectory(atPath: "\(d)/\(split)/a", withIntermediateDirectories: true)
            images.writePNG("\(d)/\(split)/a/ok.png", w: 2, h: 2, format: images.gray, pixels: [0, 1, 2, 3])
        }
        #expect(mkfifo("\(d)/train/a/pipe.png", 0o644) == 0)
        expectError("pipe.png: is a FIFO, not a regular file") { _ = try TaskCatalog.load(d, imageSize: 28) }
    }

    func safetensors(_ path: String, header: String, dataBytes: Int) throws {
        var h = Data(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        try (out + h + Data(count: dataBytes)).write(to: URL(fileURLWithPath: path))
    }

    @Test func safetensorsClaimsBeyondTheFile() throws {
        let d = dataTests.dir()
        // Shape products that overflow or exceed the data.
        try safetensors(d + "/big.safetensors", header: #"{"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#, dataBytes: 8)
        expectError("big.safetensors: tensor x: shape [4294967296, 4294967296, 16] of F32 does not fit") { _ = try SafeTensors(path: d + "/big.safetensors") }
        try safetensors(d + "/neg.safetensors", header: #"{"x":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}"#, dataBytes: 16)
        expectError("neg.safetensors: tensor x: shape [-1, 4]") { _ = try SafeTensors(path: d + "/neg.safetensors") }
        // Overlapping tensors.
        try safetensors(d + "/overlap.safetensors", header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 16)
        expectError("tensors a and b overlap") { _ = try SafeTensors(path: d + "/overlap.safetensors") }
        // Metadata that claims a gigantic model: refused from the config, nothing allocated.
        try safetensors(d + "/meta.safetensors", header: #"{"__metadata__":{"config":"{\"imageSize\":28,\"patchSize\":4,\"channels\":1,\"dim\":1000000,\"depth\":1000,\"heads\":4,\"mlpDim\":512}"}}"#, dataBytes: 0)
        expectError("meta.safetensors: invalid model config") { _ = try Backbone.load(d + "/meta.safetensors") }
        // Within the limits but not in the file: refused before the parameters are allocated.
        try safetensors(d + "/meta2.safetensors", header: #"{"__metadata__":{"config":"{\"imageSize\":1024,\"patchSize\":4,\"channels\":3,\"dim\":8192,\"depth\":200,\"heads\":64,\"mlpDim\":32768}"}}"#, dataBytes: 0)
        expectError("meta2.safetensors: missing tensor cls_token") { _ = try Backbone.load(d + "/meta2.safetensors") }
        // A scalar fc1 and no metadata: the architecture cannot be inferred.
        let tensors = #""patch_embed.proj.weight":{"dtype":"F32","shape":[8,1,4,4],"data_offsets":[0,512]},"pos_embed":{"dtype":"F32","shape":[1,50,8],"data_offsets":[512,2112]},"blocks.0.mlp.fc1.weight":{"dtype":"F32","shape":[],"data_offsets":[2112,2116]}"#
        try safetensors(d + "/scalar.safetensors", header: "{" + tensors + "}", dataBytes: 2116)
        expectError("scalar.safetensors: blocks.0.mlp.fc1.weight has shape [], expected [mlp, 8]") { _ = try Backbone.load(d + "/scalar.safetensors") }
        // A FIFO.
        #expect(mkfifo(d + "/fifo.safetensors", 0o644) == 0)
        expectError("fifo.safetensors: is a FIFO") { _ = try Backbone.load(d + "/fifo.safetensors") }
    }

    /// Normalization metadata must have one finite mean and positive std per channel.
    @Test func normalizationMetadataIsChecked() throws {
        let d = dataTests.dir(), c = ViTConfig(imageSize: 8, patchSize: 4, channels: 1, dim: 8, depth: 1, heads: 2, mlpDim: 16)
        let config = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        for (name, norm, message) in [("empty", #"{"mean":[],"std":[]}"#, "empty.safetensors: normalization: 0 means and 0 standard deviations for 1 channel"),
                                      ("zero", #"{"mean":[0.5],"std":[0]}"#, "zero.safetensors: normalization: means must be finite and standard deviations finite and positive"),
                                      ("junk", #"[1,2]"#, "junk.safetensors: metadata entry 'normalization'")] {
            let path = "\(d)/\(name).safetensors"
            try SafeTensors.write(path: path, tensors: SafeTensors.tensors(of: c.initBackbone(seed: 1)), metadata: ["config": config, "normalization": norm])
            expectError(message) { _ = try Backbone.load(path) }
        }
    }
}

/// CRC-32 as PNG chunks use it (zlib's polynomial).
func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    }
    return ~c
}
