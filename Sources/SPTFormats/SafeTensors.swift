import Foundation
import SPTFiles

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data.
public struct SafeTensors: Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        var size: Int { switch self { case .f32: 4; case .f16, .bf16: 2; case .f64: 8 } }
    }

    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        let range: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    /// Reads and validates a file; every problem is reported with the file and tensor name.
    public init(path: String) throws {
        let data: Data
        do { data = try Checked.contents(path) } catch EngineError.data(_, let m) { throw EngineError.checkpoint(file: path, message: m) }
        try self.init(data: data, path: path)
    }

    /// Validates a file's bytes; `path` names it in errors.
    public init(data: Data, path: String) throws {
        self.path = path
        func fail(_ m: String) -> EngineError { .checkpoint(file: path, message: m) }
        let data = data.startIndex == 0 ? data : Data(data)
        self.data = data
        guard data.count >= 8 else { throw fail("truncated: \(data.count) bytes, no header length") }
        let n = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8) else { throw fail("truncated: header of \(n) bytes, file has \(data.count - 8) after the length") }
        dataStart = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: data[8..<dataStart]) as? [String: Any] else {
            throw fail("header at byte 8 is not a JSON object")
        }
        // Tensor data may not overlap: sorted by start, each must begin at or after the previous end.
        var ranges: [(name: String, range: Range<Int>)] = []
        var entries: [String: Entry] = [:], meta: [String: String] = [:]
        let payload = data.count - dataStart
        for (name, value) in json {
            if name == "__metadata__" {
                meta = (value as? [String: String]) ?? [:]
                continue
            }
            guard let d = value as? [String: Any], let ds = d["dtype"] as? String,
                  let shape = d["shape"] as? [Int], let off = d["data_offsets"] as? [Int], off.count == 2 else {
                throw fail("tensor \(name): malformed header entry")
            }
            guard let dtype = DType(rawValue: ds) else { throw fail("tensor \(name): unsupported dtype \(ds)") }
            guard shape.count <= 8, let bytes = Checked.product(shape + [dtype.size], limit: payload) else {
                throw fail("tensor \(name): shape \(shape) of \(ds) does not fit in the file's \(payload) data bytes")
            }
            guard off[0] >= 0, off[0] <= off[1], off[1] - off[0] == bytes else {
                throw fail("tensor \(name): byte range \(off) does not fit shape \(shape) of \(ds)")
            }
            guard off[1] <= payload else {
                throw fail("tensor \(name): truncated (needs bytes up to \(off[1]), data has \(payload))")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: off[0]..<off[1])
            ranges.append((name, off[0]..<off[1]))
        }
        ranges.sort { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw fail("tensors \(a.name) and \(b.name) overlap (bytes \(a.range) and \(b.range) of the data)")
        }
        self.entries = entries
        metadata = meta
    }

    /// FNV-1a 64 of the file's bytes, hex (run logs name a backbone by it), from the bytes already
    /// read: a 340 MB ViT-B checkpoint is not read a second time to hash it.
    public var contentHash: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return String(h, radix: 16)
    }

    /// The tensor's values as Float, whatever its stored dtype.
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw EngineError.checkpoint(file: path, message: "missing tensor \(name)") }
        let count = e.range.count / e.dtype.size
        let base = dataStart + e.range.lowerBound
        return data.withUnsafeBytes { raw in
            let p = raw.baseAddress! + base
            switch e.dtype {
            case .f32: return (0..<count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .f64: return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            case .f16: return (0..<count).map { Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
            case .bf16: return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
            }
        }
    }

    /// Writes tensors through the output rule (temporary file, fsync, rename), in the given order.
    public static func write(path: String, tensors: [(name: String, shape: [Int], values: [Float])],
                             metadata: [String: String] = [:], dtype: DType = .f32) throws {
        precondition(dtype == .f32 || dtype == .f16, "write supports F32 and F16")
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for t in tensors {
            precondition(t.values.count == t.shape.reduce(1, *), "\(t.name): values do not match shape")
            let start = body.count
            if dtype == .f32 {
                t.values.withUnsafeBufferPointer { body.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 4 * $0.count)) }
            } else {
                let h = t.values.map { Float16($0).bitPattern.littleEndian }
                h.withUnsafeBufferPointer { body.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 2 * $0.count)) }
            }
            header[t.name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [start, body.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + json.count) % 8 != 0 { json.append(0x20) } // align data to 8 bytes, as the reference writer does
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        try SafeOutput.writeBytes(to: path) { try $0([UInt8](out)) }
    }
}
