import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The read side of the file rule: only regular files are read as data (logs, event files,
/// images, checkpoints). A FIFO named like a log would block a reader forever, a directory or a
/// device is never data; the open itself never blocks (O_NONBLOCK) and the type is checked on the
/// opened file, so a file swapped after a check is still caught.
public enum RegularFile {
    /// Why `path` cannot be read as a regular file (nil: it can), from stat(2) of the path.
    public static func problem(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return errno == ENOENT ? "file not found" : "cannot read: \(String(cString: strerror(errno)))" }
        return describe(st.st_mode)
    }

    /// Why a path that does not resolve is missing, as a person needs to hear it: a symbolic-link
    /// loop or a dangling link is not "no such file".
    public static func whyMissing(_ path: String) -> String {
        var st = stat()
        if stat(path, &st) == 0 { return "exists" }
        let reason = errno
        if reason == ELOOP { return "a loop of symbolic links" }
        if reason == ENOENT, lstat(path, &st) == 0 { return "a symbolic link to a missing file" }
        return reason == ENOENT ? "no such file or directory" : String(cString: strerror(reason))
    }

    /// "is a FIFO, not a regular file" and the like; nil for a regular file.
    static func describe(_ mode: mode_t) -> String? {
        let kind = mode & S_IFMT
        guard kind != S_IFREG else { return nil }
        let what = kind == S_IFDIR ? "a directory" : kind == S_IFIFO ? "a FIFO" : kind == S_IFSOCK ? "a socket" : "a device"
        return "is \(what), not a regular file"
    }

    /// Opens `path` for reading after checking, on the opened descriptor, that it is a regular file.
    public static func openForReading(_ path: String) throws -> FileHandle {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw OutputError(path: path, message: errno == ENOENT ? "file not found" : "cannot open: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        if fstat(fd, &st) != 0 { close(fd); throw OutputError(path: path, message: "cannot read: \(String(cString: strerror(errno)))") }
        if let why = describe(st.st_mode) { close(fd); throw OutputError(path: path, message: why) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
