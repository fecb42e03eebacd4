import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A write that was refused or failed, with the path it concerns.
public struct OutputError: Error, CustomStringConvertible, Equatable {
    public let path: String, message: String
    public init(path: String, message: String) { self.path = path; self.message = message }
    public var description: String { "\(path.isEmpty ? "(empty path)" : path): \(message)" }
}

/// The one output rule of every command that writes (exports, reports, task exports, embeddings,
/// saved inits, checkpoints): outputs can never destroy what they were made from. A target must
/// be a non-empty path that is not an input, not inside an input directory (through any symlink)
/// and not an existing run log; every file is written under a temporary name in its own
/// directory, flushed, then renamed over the target; a directory output is built in a hidden
/// staging directory beside it and renamed into place when complete, into a target that is
/// absent or empty — an interrupted export leaves no half-written directory behind. Nothing is
/// ever removed but this rule's own temporary files.
public enum SafeOutput {
    /// Refuses a file target that is empty, a directory, one of the inputs, a path inside an
    /// input directory, or an existing run log.
    public static func check(_ out: String, inputs: [String]) throws {
        func refuse(_ why: String) -> OutputError { OutputError(path: out, message: "refusing to write here: \(why)") }
        var isDir: ObjCBool = false
        if !out.isEmpty, FileManager.default.fileExists(atPath: out, isDirectory: &isDir) {
            if isDir.boolValue { throw refuse("it is a directory (name a file)") }
            if let why = RegularFile.problem(out) { throw refuse("it " + why) }
            if looksLikeRunLog(out) { throw refuse("it is a run log") }
        }
        try checkInputs(out, inputs: inputs)
    }

    /// Refuses an empty target, one that is one of the inputs (through any symlink) or inside an
    /// input directory.
    public static func checkInputs(_ out: String, inputs: [String]) throws {
        func refuse(_ why: String) -> OutputError { OutputError(path: out, message: "refusing to write here: \(why)") }
        guard !out.isEmpty else { throw refuse("the path is empty (an unset variable?)") }
        let target = canonical(out)
        // An input that is not on disk (a built-in name) has nothing to lose.
        for input in inputs where !input.isEmpty && FileManager.default.fileExists(atPath: input) {
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
        guard fd >= 0 else { throw OutputError(path: path, message: "cannot create a file in \(dir.isEmpty ? "." : dir): \(errnoText())") }
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
                    if n < 0 { if errno == EINTR { continue }; throw OutputError(path: path, message: "write failed: \(errnoText())") }
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
        guard fsync(fd) == 0 else { throw OutputError(path: path, message: "write failed: \(errnoText())") }
        fchmod(fd, 0o644)
        guard rename(tmp, path) == 0 else { throw OutputError(path: path, message: "cannot rename into place: \(errnoText())") }
        ok = true
    }

    /// Builds a directory output: refuses an `out` that is empty, a file, a non-empty directory,
    /// an input or inside one; `body` writes into a staging directory (`.<name>.partial-XXXXXX`
    /// beside `out`) which is renamed to `out` when `body` returns. When `body` throws, or the
    /// process dies, `out` is untouched; a staging directory left by a killed export is removed
    /// by the next export to the same target.
    public static func directory(_ out: String, inputs: [String], _ body: (String) throws -> Void) throws {
        func refuse(_ why: String) -> OutputError { OutputError(path: out, message: "refusing to write here: \(why)") }
        try checkInputs(out, inputs: inputs)
        var isDir: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue else { throw refuse("it is a file (name a directory)") }
            let entries = (try? fm.contentsOfDirectory(atPath: out)) ?? []
            guard entries.isEmpty else { throw refuse("the directory is not empty (\(entries.count) entries); name a new or empty one") }
        }
        let trimmed = out.hasSuffix("/") && out.count > 1 ? String(out.dropLast()) : out
        let parent = (trimmed as NSString).deletingLastPathComponent, name = (trimmed as NSString).lastPathComponent
        let dir = parent.isEmpty ? "." : parent
        try makeDirectories(dir)
        let prefix = ".\(name).partial-"
        for stale in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where stale.hasPrefix(prefix) {
            try? fm.removeItem(atPath: (dir as NSString).appendingPathComponent(stale))
        }
        var template = Array(((dir as NSString).appendingPathComponent(prefix + "XXXXXX")).utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw OutputError(path: dir, message: "cannot create a directory here: \(errnoText())")
        }
        let staging = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var done = false
        defer { if !done { try? fm.removeItem(atPath: staging) } }
        try body(staging)
        chmod(staging, 0o755)
        // rename(2) replaces an empty directory; a directory made meanwhile with content is not replaced.
        guard rename(staging, trimmed) == 0 else { throw OutputError(path: out, message: "cannot move the finished output into place: \(errnoText())") }
        done = true
    }

    /// `mkdir -p`, failing with the first component that cannot be made and the system's reason.
    public static func makeDirectories(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o755) != 0 && errno != EEXIST { throw OutputError(path: built, message: "cannot create directory: \(errnoText())") }
            var st = stat()
            guard stat(built, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw OutputError(path: built, message: "cannot create directory: it exists and is not a directory")
            }
        }
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
        guard let h = try? RegularFile.openForReading(path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 64)) ?? Data()
        return String(decoding: head, as: UTF8.self).replacingOccurrences(of: " ", with: "").hasPrefix("{\"kind\":\"header\"")
    }
}
