import Foundation
import Testing
import SPTEngine

@Suite struct DataTests {
    func dir() -> String {
        let d = NSTemporaryDirectory() + "spt-data-\(UInt32.random(in: 0..<UInt32.max))"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func idx(magic: UInt32, dims: [UInt32], bytes: [UInt8]) -> Data {
        var d = Data()
        for v in [magic] + dims { withUnsafeBytes(of: v.bigEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: bytes)
        return d
    }

    func gzip(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path + ".raw"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c '\(path).raw' > '\(path)' && rm '\(path).raw'"]
        try p.run(); p.waitUntilExit()
    }

    func writeSet(_ d: String, n: Int = 5, gz: Bool) throws {
        for prefix in ["train", "t10k"] {
            let img = idx(magic: 0x803, dims: [UInt32(n), 3, 2], bytes: (0..<(n * 6)).map { UInt8($0 * 7 % 256) })
            let lab = idx(magic: 0x801, dims: [UInt32(n)], bytes: (0..<n).map { UInt8($0 % 3) })
            if gz {
                try gzip(img, to: "\(d)/\(prefix)-images-idx3-ubyte.gz"); try gzip(lab, to: "\(d)/\(prefix)-labels-idx1-ubyte.gz")
            } else {
                try img.write(to: URL(fileURLWithPath: "\(d)/\(prefix)-images-idx3-ubyte"))
                try lab.write(to: URL(fileURLWithPath: "\(d)/\(prefix)-labels-idx1-ubyte"))
            }
        }
    }

    @Test(arguments: [false, true])
    func idxRoundTrip(gzipped: Bool) throws {
        let d = dir()
        try writeSet(d, gz: gzipped)
        let s = try IDXReader.load(directory: d, name: "x")
        #expect(s.train.count == 5 && s.train.height == 3 && s.train.width == 2 && s.train.classes == 3)
        #expect(s.train.images[1] == 7 / 255 && s.train.labels == [0, 1, 2, 0, 1])
    }

    @Test func idxBadInputNamesFileAndOffset() throws {
        let d = dir()
        try writeSet(d, gz: false)
        let img = "\(d)/train-images-idx3-ubyte", lab = "\(d)/train-labels-idx1-ubyte"
        // wrong magic
        try idx(magic: 0x801, dims: [5, 3, 2], bytes: Array(repeating: 0, count: 30)).write(to: URL(fileURLWithPath: img))
        #expect { try IDXReader.load(directory: d, name: "x") } throws: { "\($0)".contains(img) && "\($0)".contains("wrong magic 0x00000801 at offset 0") }
        // truncated
        try idx(magic: 0x803, dims: [5, 3, 2], bytes: Array(repeating: 0, count: 20)).write(to: URL(fileURLWithPath: img))
        #expect { try IDXReader.load(directory: d, name: "x") } throws: { "\($0)".contains("truncated") && "\($0)".contains("offset 36") }
        // label count ≠ image count
        try idx(magic: 0x803, dims: [5, 3, 2], bytes: Array(repeating: 0, count: 30)).write(to: URL(fileURLWithPath: img))
        try idx(magic: 0x801, dims: [4], bytes: [0, 1, 2, 0]).write(to: URL(fileURLWithPath: lab))
        #expect { try IDXReader.load(directory: d, name: "x") } throws: { "\($0)".contains("4 labels for 5 images") }
        // out-of-range label (with named classes)
        try idx(magic: 0x801, dims: [5], bytes: [0, 1, 9, 0, 1]).write(to: URL(fileURLWithPath: lab))
        #expect { try IDXReader.load(directory: d, name: "x", classNames: ["a", "b", "c"]) } throws: {
            "\($0)".contains("label 9 at offset 10 is out of range 0..<3")
        }
        // corrupt gzip
        try Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef]).write(to: URL(fileURLWithPath: img + ".gz"))
        try FileManager.default.removeItem(atPath: img)
        #expect { try IDXReader.load(directory: d, name: "x") } throws: { "\($0)".contains(".gz") }
        // missing file
        let empty = dir()
        #expect { try IDXReader.load(directory: empty, name: "x") } throws: { "\($0)".contains("file not found") }
    }

    @Test(arguments: StructuredTasks.Kind.allCases)
    func structuredTasksAreDeterministicAndLabelled(kind: StructuredTasks.Kind) {
        let a = StructuredTasks.make(kind, size: 16, seed: 3, train: 40, test: 10)
        let b = StructuredTasks.make(kind, size: 16, seed: 3, train: 40, test: 10)
        #expect(a.train.images == b.train.images && a.train.labels == b.train.labels)
        #expect(a.train.images != StructuredTasks.make(kind, size: 16, seed: 4, train: 40, test: 10).train.images)
        #expect(a.train.labels.allSatisfy { $0 >= 0 && Int($0) < kind.classNames.count })
        #expect(Set(a.train.labels).count > 1)
        // every image shows something
        for i in 0..<a.train.count { #expect(a.train.images[(i * 256)..<((i + 1) * 256)].max()! > 0.3) }
    }

    @Test func vtab1kSplitIsDeterministicAndDisjoint() {
        let s = StructuredTasks.make(.shape, size: 8, train: 1500, test: 10)
        let tune = TaskData(source: s, protocol: .tune), final = TaskData(source: s, protocol: .final)
        #expect(tune.train.count == 800 && tune.eval.count == 200 && tune.evalSplit == "val")
        #expect(final.train.count == 1000 && final.eval.count == 10 && final.evalSplit == "test")
        // the 1000 final images are the 800 + 200 of the tuning split
        #expect(Array(final.train.images.prefix(800 * 64)) == tune.train.images)
    }

    @Test func batcherAdaptsChannelsAndSize() {
        let gray = Dataset(name: "g", images: [0, 1, 1, 0], labels: [0], channels: 1, height: 2, width: 2, classes: 1)
        let b = Batcher(channels: 3, size: 4, norm: Normalization(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))
        let out = Buffer([1, 3, 4, 4])
        var rng = RNG(seed: 0)
        b.fill(out.ptr, from: gray, indices: [0], rng: &rng)
        #expect(out[0] == -1 && out[3] == 1)                 // corners keep their values, normalized
        #expect(out[16] == out[0] && out[32 + 5] == out[5])  // gray replicated to all channels
    }
}
