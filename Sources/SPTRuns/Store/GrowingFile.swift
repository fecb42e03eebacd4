import Foundation

/// A file another process appends to, read a piece at a time: each call returns the bytes
/// written since the last one (a TensorBoard event file, a W&B run file).
struct GrowingFile {
    let path: String
    private(set) var offset: UInt64 = 0

    init(path: String) { self.path = path }

    mutating func newBytes() throws -> Data {
        let h: FileHandle
        do { h = try RegularFile.openForReading(path) } catch let e as OutputError { throw RunLogError.io(path: path, message: e.message) }
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let data = try h.readToEnd() ?? Data()
        offset += UInt64(data.count)
        return data
    }
}
