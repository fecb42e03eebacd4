import Foundation
import Testing
import SPTEngine

@Suite struct CheckpointTests {
    let config = ViTConfig(imageSize: 8, patchSize: 4, channels: 1, dim: 8, depth: 2, heads: 2, mlpDim: 16)

    func dir() -> String {
        let d = NSTemporaryDirectory() + "spt-ckpt-\(UInt32.random(in: 0..<UInt32.max))"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func logits(_ backbone: ParameterSet, images: Buffer) -> [Float] {
        let m = ViTClassifier(config: config, backbone: backbone, numClasses: 3, prompts: PromptSpec(count: 2), pooling: .mean, mode: .prompt)
        var rng = RNG(seed: 3)
        m.initHead(rng: &rng)
        m.task.set("prompt_embeddings", (0..<16).map { Float($0) / 16 })
        m.forward(images: images.ptr, B: 2, rng: &rng)
        return m.logits.array
    }

    @Test func engineWrittenCheckpointGivesIdenticalLogits() throws {
        let bb = config.initBackbone(seed: 5)
        let path = dir() + "/b.safetensors"
        try SafeTensors.write(path: path, tensors: SafeTensors.tensors(of: bb), metadata: ["k": "v"])
        try SafeTensors.write(path: path, tensors: SafeTensors.tensors(of: bb), metadata: ["k": "v"]) // overwrite too
        let loaded = ParameterSet(config.backboneLayout)
        let f = try SafeTensors(path: path)
        try f.load(into: loaded)
        #expect(f.metadata["k"] == "v")
        var rng = RNG(seed: 1)
        let images = Buffer([2, 1, 8, 8], (0..<128).map { _ in rng.normal() })
        #expect(logits(loaded, images: images) == logits(bb, images: images))
    }

    @Test func fp16RoundTripIsClose() throws {
        let path = dir() + "/h.safetensors"
        try SafeTensors.write(path: path, tensors: [("x", [3], [1, -2.5, 0.333])], dtype: .f16)
        let v = try SafeTensors(path: path).floats("x")
        #expect(v[0] == 1 && v[1] == -2.5 && abs(v[2] - 0.333) < 1e-3)
    }

    @Test func malformedFilesNameTheTensorAndProblem() throws {
        let d = dir(), bb = config.initBackbone(seed: 5)
        var tensors = SafeTensors.tensors(of: bb)
        // wrong shape
        let i = tensors.firstIndex { $0.name == "blocks.1.mlp.fc1.weight" }!
        tensors[i].shape = [8, 16]
        try SafeTensors.write(path: d + "/shape.safetensors", tensors: tensors)
        #expect(throws: EngineError.checkpoint(file: d + "/shape.safetensors",
                                               message: "tensor blocks.1.mlp.fc1.weight has shape [8, 16], expected [16, 8]")) {
            try SafeTensors(path: d + "/shape.safetensors").load(into: ParameterSet(config.backboneLayout))
        }
        // missing tensor
        try SafeTensors.write(path: d + "/missing.safetensors", tensors: SafeTensors.tensors(of: bb).filter { $0.name != "norm.bias" })
        #expect(throws: EngineError.checkpoint(file: d + "/missing.safetensors", message: "missing tensor norm.bias")) {
            try SafeTensors(path: d + "/missing.safetensors").load(into: ParameterSet(config.backboneLayout))
        }
        // truncated data
        let full = try Data(contentsOf: URL(fileURLWithPath: d + "/missing.safetensors"))
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: d + "/trunc.safetensors"))
        #expect { try SafeTensors(path: d + "/trunc.safetensors") } throws: { e in
            "\(e)".contains("truncated") && "\(e)".contains("trunc.safetensors")
        }
        // unknown dtype
        var header = Data("{\"x\":{\"dtype\":\"I4\",\"shape\":[1],\"data_offsets\":[0,1]}}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += header + Data([0])
        try bytes.write(to: URL(fileURLWithPath: d + "/dtype.safetensors"))
        #expect(throws: EngineError.checkpoint(file: d + "/dtype.safetensors", message: "tensor x: unsupported dtype I4")) {
            try SafeTensors(path: d + "/dtype.safetensors")
        }
        // header length beyond the file
        try Data([0xFF, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: d + "/len.safetensors"))
        #expect { try SafeTensors(path: d + "/len.safetensors") } throws: { "\($0)".contains("truncated: header of 255 bytes") }
    }
}
