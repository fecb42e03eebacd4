import CZlib
import Foundation

/// MNIST-layout IDX files, raw or gzipped (zlib reads both transparently).
public enum IDXReader {
    /// Reads a whole file, decompressing if it is gzipped.
    static func readAll(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw EngineError.data(file: path, message: "file not found") }
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
        let b = try readAll(path)
        func fail(_ m: String) -> EngineError { .data(file: path, message: m) }
        guard b.count >= 16 else { throw fail("truncated header: \(b.count) bytes, need 16") }
        let magic = u32(b, 0)
        guard magic == 0x0803 else { throw fail(String(format: "wrong magic 0x%08x at offset 0, expected 0x00000803 (images)", magic)) }
        let n = u32(b, 4), r = u32(b, 8), c = u32(b, 12)
        guard b.count >= 16 + n * r * c else {
            throw fail("truncated: header promises \(n) images of \(r)×\(c) (\(16 + n * r * c) bytes), file has \(b.count); image \((b.count - 16) / max(1, r * c)) is incomplete at offset \(b.count)")
        }
        return (b[16..<(16 + n * r * c)].map { Float($0) / 255 }, n, r, c)
    }

    /// Labels: magic 0x00000801, then count, then one byte per label.
    public static func labels(_ path: String) throws -> [Int32] {
        let b = try readAll(path)
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
        func split(_ prefix: String) throws -> Dataset {
            let ip = try find("\(prefix)-images-idx3-ubyte"), lp = try find("\(prefix)-labels-idx1-ubyte")
            let img = try images(ip), lab = try labels(lp)
            guard img.count == lab.count else {
                throw EngineError.data(file: lp, message: "\(lab.count) labels for \(img.count) images in \(ip)")
            }
            let classes = Int(lab.max() ?? 0) + 1
            if let names = classNames, let bad = lab.firstIndex(where: { Int($0) >= names.count }) {
                throw EngineError.data(file: lp, message: "label \(lab[bad]) at offset \(8 + bad) is out of range 0..<\(names.count)")
            }
            return Dataset(name: name, images: img.values, labels: lab, channels: 1, height: img.rows, width: img.cols,
                           classes: classNames?.count ?? classes, classNames: classNames)
        }
        return DataSplits(train: try split("train"), test: try split("t10k"))
    }
}
