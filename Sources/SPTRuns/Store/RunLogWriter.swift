import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum RunLogError: Error, CustomStringConvertible, Equatable {
    case io(path: String, message: String)
    case notARunLog(path: String, message: String)
    case unsupportedVersion(path: String, version: Int)

    public var description: String {
        switch self {
        case .io(let p, let m): "\(p): \(m)"
        case .notARunLog(let p, let m): "\(p): not a run log: \(m)"
        case .unsupportedVersion(let p, let v): "\(p): run-log schema version \(v) is newer than this build reads (\(runLogSchemaVersion))"
        }
    }
}

/// Appends records to a run log so that a kill at any instant loses at most the record being
/// written: each record is one `write(2)` of a complete line to a file opened O_APPEND; earlier
/// bytes are never rewritten; segment boundaries and the end of the run are fsync'ed.
public final class RunLogWriter: @unchecked Sendable {
    public let path: String
    private var fd: Int32 = -1
    private let lock = NSLock()

    /// Creates the parent directories now; the file itself at the first record, so that a run
    /// that fails before its header leaves no empty log behind (readers refuse those).
    public init(path: String) throws {
        self.path = path
        try SafeOutput.makeDirectories((path as NSString).deletingLastPathComponent)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Writes one record as one line; fsyncs after headers, segments and final events.
    public func append(_ record: RunRecord) throws {
        var line = try record.encodedLine()
        line.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        if fd < 0 {
            // Appends (a resumed or re-opened log); never through a symlink.
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { throw RunLogError.io(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
        }
        try line.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RunLogError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        switch record {
        case .header, .segment: fsync(fd)
        case .event(let e) where e.kind.ends: fsync(fd)
        default: break
        }
    }

    public func sync() {
        lock.lock(); defer { lock.unlock() }
        if fd >= 0 { fsync(fd) }
    }

    /// The log's length in bytes (0 before its first record).
    public func length() throws -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { return 0 }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw RunLogError.io(path: path, message: "cannot stat: \(String(cString: strerror(errno)))") }
        return UInt64(st.st_size)
    }

    /// Cuts a log back to `length` bytes (a resumed run drops what it wrote after its checkpoint),
    /// never through a symlink; refused when the log is shorter than that.
    public static func truncate(_ path: String, to length: UInt64) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw RunLogError.io(path: path, message: "cannot open to resume: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, UInt64(st.st_size) >= length else {
            throw RunLogError.io(path: path, message: "shorter than its checkpoint says (\(st.st_size) < \(length) bytes): not the log the checkpoint was written with")
        }
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw RunLogError.io(path: path, message: "cannot truncate: \(String(cString: strerror(errno)))")
        }
    }
}
