import Foundation

/// TFRecord framing, as TensorBoard event files use it: per record a little-endian UInt64 length,
/// the masked CRC-32C of those 8 bytes, the payload, and the masked CRC-32C of the payload.
public enum TFRecord {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// CRC-32C (Castagnoli), as TensorFlow's `crc32c::Value`.
    public static func crc32c<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// TensorFlow's mask: rotate right by 15 and add a constant (CRCs of CRCs stay meaningful).
    public static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let c = crc32c(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }

    /// One framed record.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        let length = littleEndian(UInt64(payload.count))
        out += length
        out += littleEndian(masked(length))
        out += payload
        out += littleEndian(masked(payload))
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static func read<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, at i: Int) -> T {
        var v: T = 0
        for k in 0..<(T.bitWidth / 8) { v |= T(bytes[i + k]) << (8 * k) }
        return v
    }
}

/// Reads the records of one file, incrementally (a file TensorBoard-style writers still append to
/// can be followed). A record whose payload CRC is wrong is skipped and reported; a wrong length
/// CRC loses the framing, so the rest of the file is reported and skipped; an incomplete record
/// at the end waits for more bytes, and is reported as torn by `finish()`.
public final class TFRecordReader {
    private var file: GrowingFile
    /// Problems met, each with the byte offset of the record.
    public private(set) var issues: [RunLogIssue] = []
    private var pending: [UInt8] = []
    private var pendingStart: UInt64 = 0
    private var lost = false

    public init(path: String) { file = GrowingFile(path: path) }

    /// The payloads of the records completed since the last call.
    public func poll() throws -> [[UInt8]] {
        let data = try file.newBytes()
        if lost { return [] }
        pending += data
        var out: [[UInt8]] = []
        var i = 0
        while pending.count - i >= 12 {
            let slice = pending[...]
            let length: UInt64 = TFRecord.read(slice, at: i), lengthCRC: UInt32 = TFRecord.read(slice, at: i + 8)
            let at = pendingStart + UInt64(i)
            guard TFRecord.masked(pending[i..<(i + 8)]) == lengthCRC, length <= UInt64(Int32.max) else {
                issues.append(RunLogIssue(byte: at, message: "record length fails its CRC; the rest of the file is skipped"))
                lost = true; pending = []
                return out
            }
            let n = Int(length)
            guard pending.count - i >= 12 + n + 4 else { break }
            let payload = Array(pending[(i + 12)..<(i + 12 + n)])
            let crc: UInt32 = TFRecord.read(slice, at: i + 12 + n)
            if TFRecord.masked(payload) == crc {
                out.append(payload)
            } else {
                issues.append(RunLogIssue(byte: at, message: "record of \(n) bytes fails its CRC; skipped"))
            }
            i += 16 + n
        }
        pending.removeFirst(i)
        pendingStart += UInt64(i)
        return out
    }

    /// Declares the file complete: bytes of an unfinished record are reported as a torn tail.
    public func finish() {
        guard !pending.isEmpty else { return }
        issues.append(RunLogIssue(byte: pendingStart, message: "torn last record (\(pending.count) bytes) skipped"))
        pending = []
    }
}
