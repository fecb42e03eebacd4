import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Output files that can never destroy what they were made from: the target is checked first,
/// written under a temporary name in its own directory, flushed, then renamed over the target.
/// Nothing is ever removed; a failure leaves the target as it was.
public enum SafeOutput {
    /// Refuses a target that is a directory, one of the inputs (through any symlink), a path
    /// inside an input directory, or an existing run log.
    public static func check(_ out: String, inputs: [String]) throws {
        func refuse(_ why: String) -> RunLogError { .io(path: out, message: "refusing to write here: \(why)") }
        guard !out.isEmpty else { throw RunLogError.io(path: out, message: "empty output path") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
            if isDir.boolValue { throw refuse("it is a directory (name a file)") }
            if looksLikeRunLog(out) { throw refuse("it is a run log") }
        }
        try checkInputs(out, inputs: inputs)
    }

    /// Refuses a target that is one of the inputs (through any symlink) or inside an input directory.
    public static func checkInputs(_ out: String, inputs: [String]) throws {
        func refuse(_ why: String) -> RunLogError { .io(path: out, message: "refusing to write here: \(why)") }
        let target = canonical(out)
        for input in inputs {
            let c = canonical(input)
            if target == c { throw refuse("it is an input (\(input))") }
            if target.hasPrefix(c.hasSuffix("/") ? c : c + "/") { throw refuse("it is inside the input directory \(input)") }
        }
    }

    /// Writes through `body`'s emit function into a temporary file beside `path`, then renames it
    /// into place. Every write error (a full disk, a read-only directory) is thrown with the path.
    public static func write(to path: String, _ body: ((String) throws -> Void) throws -> Void) throws {
        try writeBytes(to: path) { emit in try withoutActuallyEscaping(emit) { e in try body { try e(Array($0.utf8)) } } }
    }

    /// `write(to:)` for binary files.
    public static func writeBytes(to path: String, _ body: (([UInt8]) throws -> Void) throws -> Void) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/." + base + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw RunLogError.io(path: path, message: "cannot create a file in \(dir.isEmpty ? "." : dir): \(errnoText())") }
        let tmp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = false
        defer { close(fd); if !ok { unlink(tmp) } }
        var pending = [UInt8]()
        pending.reserveCapacity(1 << 16)
        func flush() throws {
            try pending.withUnsafeBytes { raw in
                var off = 0
                while off < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                    if n < 0 { if errno == EINTR { continue }; throw RunLogError.io(path: path, message: "write failed: \(errnoText())") }
                    off += n
                }
            }
            pending.removeAll(keepingCapacity: true)
        }
        try body { bytes in
            pending.append(contentsOf: bytes)
            if pending.count >= 1 << 16 { try flush() }
        }
        try flush()
        guard fsync(fd) == 0 else { throw RunLogError.io(path: path, message: "write failed: \(errnoText())") }
        fchmod(fd, 0o644)
        guard rename(tmp, path) == 0 else { throw RunLogError.io(path: path, message: "cannot rename into place: \(errnoText())") }
        ok = true
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// The absolute path with symlinks of its existing part resolved.
    static func canonical(_ path: String) -> String {
        let abs = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var url = URL(fileURLWithPath: abs).standardizedFileURL
        // Resolve the deepest existing ancestor, keep the rest as written.
        var tail: [String] = []
        while !FileManager.default.fileExists(atPath: url.path) && url.path != "/" {
            tail.insert(url.lastPathComponent, at: 0)
            url.deleteLastPathComponent()
        }
        var resolved = url.resolvingSymlinksInPath()
        for t in tail { resolved.appendPathComponent(t) }
        return resolved.standardizedFileURL.path
    }

    static func looksLikeRunLog(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 64)) ?? Data()
        return String(decoding: head, as: UTF8.self).replacingOccurrences(of: " ", with: "").hasPrefix("{\"kind\":\"header\"")
    }
}
