import CZlib
import Foundation

/// MNIST-layout IDX files, raw or gzipped (zlib reads both transparently).
public enum IDXReader {
    /// Reads a whole file, decompressing if it is gzipped.
    static func readAll(_ path: String) throws -> [UInt8] {
        try Checked.regularFile(path)
        guard let f = gzopen(path, "rb") else { throw EngineError.data(file: path, message: "cannot open") }
        defer { gzclose(f) }
        var out = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let msg = String(cString: gzerror(f, &code))
                throw EngineError.data(file: path, message: "corrupt compressed data after byte \(out.count): \(msg)")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        return out
    }

    static func u32(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
    }

    /// Images: magic 0x00000803, then count, rows, cols, then bytes. Returns [N, 1, rows, cols] in [0, 1].
    public static func images(_ path: String) throws -> (values: [Float], count: Int, rows: Int, cols: Int) {
        try images(bytes: readAll(path), path: path)
    }

    /// The same from decompressed bytes; `path` names them in errors.
    public static func images(bytes b: [UInt8], path: String) throws -> (values: [Float], count: Int, rows: Int, cols: Int) {
        func fail(_ m: String) -> EngineError { .data(file: path, message: m) }
        guard b.count >= 16 else { throw fail("truncated header: \(b.count) bytes, need 16") }
        let magic = u32(b, 0)
        guard magic == 0x0803 else { throw fail(String(format: "wrong magic 0x%08x at offset 0, expected 0x00000803 (images)", magic)) }
        let n = u32(b, 4), r = u32(b, 8), c = u32(b, 12)
        guard n > 0, (1...4096).contains(r), (1...4096).contains(c) else {
            throw fail("header at offset 4 claims \(n) images of \(r)×\(c); need at least one image of 1…4096 pixels a side")
        }
        guard let bytes = Checked.product([n, r, c], limit: b.count - 16) else {
            throw fail("truncated: header promises \(n) images of \(r)×\(c), file has \(b.count) bytes; image \((b.count - 16) / (r * c)) is incomplete at offset \(b.count)")
        }
        return (b[16..<(16 + bytes)].map { Float($0) / 255 }, n, r, c)
    }

    /// Labels: magic 0x00000801, then count, then one byte per label.
    public static func labels(_ path: String) throws -> [Int32] {
        try labels(bytes: readAll(path), path: path)
    }

    public static func labels(bytes b: [UInt8], path: String) throws -> [Int32] {
        func fail(_ m: String) -> EngineError { .data(file: path, message: m) }
        guard b.count >= 8 else { throw fail("truncated header: \(b.count) bytes, need 8") }
        let magic = u32(b, 0)
        guard magic == 0x0801 else { throw fail(String(format: "wrong magic 0x%08x at offset 0, expected 0x00000801 (labels)", magic)) }
        let n = u32(b, 4)
        guard b.count >= 8 + n else { throw fail("truncated: header promises \(n) labels, file ends at offset \(b.count)") }
        return b[8..<(8 + n)].map { Int32($0) }
    }

    /// A directory with train-/t10k- images and labels, each optionally `.gz`.
    public static func load(directory: String, name: String, classNames: [String]? = nil) throws -> DataSplits {
        func find(_ base: String) throws -> String {
            for cand in [base, base + ".gz"] {
                let p = (directory as NSString).appendingPathComponent(cand)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw EngineError.data(file: (directory as NSString).appendingPathComponent(base), message: "file not found (nor .gz)")
        }
        func split(_ prefix: String) throws -> (Dataset, labelFile: String) {
            let ip = try find("\(prefix)-images-idx3-ubyte"), lp = try find("\(prefix)-labels-idx1-ubyte")
            let img = try images(ip), lab = try labels(lp)
            guard img.count == lab.count else {
                throw EngineError.data(file: lp, message: "\(lab.count) labels for \(img.count) images in \(ip)")
            }
            return (Dataset(name: name, images: img.values, labels: lab, channels: 1, height: img.rows, width: img.cols,
                            classes: classNames?.count ?? Int(lab.max() ?? 0) + 1, classNames: classNames), lp)
        }
        let (train, trainLabels) = try split("train"), (test, testLabels) = try split("t10k")
        // Classes are the training labels 0..<k; a label outside them indexes no logit.
        let classes = train.classes
        if classNames == nil, let gap = (0..<classes).first(where: { k in !train.labels.contains(Int32(k)) }) {
            let top = train.labels.firstIndex(of: Int32(classes - 1))!
            throw EngineError.data(file: trainLabels, message: "label \(classes - 1) at offset \(8 + top) makes \(classes) classes, but class \(gap) has no image: labels must be 0..<classes")
        }
        for (ds, file) in [(train, trainLabels), (test, testLabels)] {
            if let bad = ds.labels.firstIndex(where: { Int($0) >= classes }) {
                throw EngineError.data(file: file, message: "label \(ds.labels[bad]) at offset \(8 + bad) is out of range 0..<\(classes)")
            }
        }
        var t = test
        t.classes = classes; t.classNames = train.classNames
        return DataSplits(train: train, test: t)
    }
}
