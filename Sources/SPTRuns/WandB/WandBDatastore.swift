import CZlib
import Foundation

/// The framing of a W&B run file (`run-<id>.wandb`, W&B's "datastore"): a 7-byte header
/// (`:W&B`, magic 0xBEE1 little-endian, version 0), then LevelDB's log format — 32 KiB blocks of
/// chunks, each with a CRC-32 (zlib's, over the type byte and the data), a little-endian UInt16
/// length and a type: a whole record (full) or its first, middle and last pieces; fewer than 7
/// bytes left in a block are zero padding.
enum WandBDatastore {
    static let header: [UInt8] = [0x3A, 0x57, 0x26, 0x42, 0xE1, 0xBE, 0x00]
    static let block = 32768
    static let chunkHeader = 7
    enum ChunkType: UInt8 { case full = 1, first, middle, last }

    static func crc(type: UInt8, _ data: ArraySlice<UInt8>) -> UInt32 {
        var t = type
        var c = crc32(0, &t, 1)
        data.withUnsafeBufferPointer { c = crc32(c, $0.baseAddress, UInt32($0.count)) }
        return UInt32(c)
    }
}

/// Reads the records of one W&B run file, incrementally, so that a file W&B still appends to can
/// be followed. A chunk that fails its CRC, or has an impossible length or type, is reported with
/// its byte offset and the rest of its block skipped (where LevelDB's reader resumes); a record
/// whose pieces do not join is reported and dropped; an incomplete chunk at the end waits for
/// more bytes and is reported as torn by `finish()`.
final class WandBDatastoreReader {
    private var file: GrowingFile
    private(set) var issues: [RunLogIssue] = []
    private var pending: [UInt8] = []
    private var pendingStart: UInt64 = 0
    private var headerChecked = false
    private var lost = false
    private var assembling: (start: UInt64, bytes: [UInt8])?
    /// Where reading resumes after a bad chunk: the end of its block.
    private var skipUntil: UInt64 = 0

    init(path: String) { file = GrowingFile(path: path) }

    /// The payloads of the records completed since the last call.
    func poll() throws -> [[UInt8]] { consume(try file.newBytes()) }

    /// The payloads of the records that `data`, the file's next bytes, completes.
    func consume<S: Sequence<UInt8>>(_ data: S) -> [[UInt8]] {
        if lost { return [] }
        pending += data
        var out: [[UInt8]] = []
        var i = 0
        if !headerChecked {
            let n = WandBDatastore.header.count
            guard pending.count >= n else { return [] }
            guard Array(pending[0..<n]) == WandBDatastore.header else {
                issues.append(RunLogIssue(byte: 0, message: "no W&B run-file header (:W&B, magic 0xBEE1, version 0); the file is skipped"))
                lost = true; pending = []
                return []
            }
            headerChecked = true
            i = n
        }
        while true {
            if pendingStart + UInt64(i) < skipUntil {
                let n = Int(skipUntil - pendingStart) - i
                guard pending.count - i >= n else { i = pending.count; break }
                i += n
            }
            let at = pendingStart + UInt64(i)
            let left = WandBDatastore.block - Int(at % UInt64(WandBDatastore.block))
            if left < WandBDatastore.chunkHeader {
                guard pending.count - i >= left else { break }
                i += left
                continue
            }
            guard pending.count - i >= WandBDatastore.chunkHeader else { break }
            let crc: UInt32 = TFRecord.read(pending[...], at: i)
            let length = Int(UInt16(pending[i + 4]) | UInt16(pending[i + 5]) << 8)
            let rawType = pending[i + 6]
            guard let type = WandBDatastore.ChunkType(rawValue: rawType), length <= left - WandBDatastore.chunkHeader else {
                skipBlock(at: at, left: left, "chunk with type \(rawType) and length \(length) is not a W&B chunk")
                continue
            }
            guard pending.count - i >= WandBDatastore.chunkHeader + length else { break }
            let data = pending[(i + WandBDatastore.chunkHeader)..<(i + WandBDatastore.chunkHeader + length)]
            guard WandBDatastore.crc(type: rawType, data) == crc else {
                skipBlock(at: at, left: left, "chunk of \(length) bytes fails its CRC")
                continue
            }
            i += WandBDatastore.chunkHeader + length
            switch type {
            case .full, .first:
                if let a = assembling { issues.append(RunLogIssue(byte: a.start, message: "record without its last piece; dropped")) }
                assembling = nil
                if type == .full { out.append(Array(data)) } else { assembling = (at, Array(data)) }
            case .middle, .last:
                guard assembling != nil else {
                    issues.append(RunLogIssue(byte: at, message: "piece of a record whose first piece is missing; dropped"))
                    continue
                }
                assembling!.bytes += data
                if type == .last { out.append(assembling!.bytes); assembling = nil }
            }
        }
        pending.removeFirst(i)
        pendingStart += UInt64(i)
        return out
    }

    /// Reports a bad chunk, drops a record it belonged to, and skips the rest of the block.
    private func skipBlock(at: UInt64, left: Int, _ message: String) {
        issues.append(RunLogIssue(byte: at, message: message + "; the rest of its block skipped"))
        if let a = assembling { issues.append(RunLogIssue(byte: a.start, message: "record cut by a bad chunk; dropped")) }
        assembling = nil
        skipUntil = at + UInt64(left)
    }

    /// Declares the file complete: an unfinished chunk or record is reported as a torn tail.
    func finish() {
        if let a = assembling {
            issues.append(RunLogIssue(byte: a.start, message: "torn last record (\(a.bytes.count) bytes of its pieces) skipped"))
            assembling = nil
        }
        guard !pending.isEmpty else { return }
        issues.append(RunLogIssue(byte: pendingStart, message: "torn last chunk (\(pending.count) bytes) skipped"))
        pending = []
    }
}
