import Foundation
import SPTFiles

/// Guards every reader applies before a number from a file indexes memory or sizes an
/// allocation: the file is a regular file, and counts multiply without overflow and within a limit.
public enum Checked {
    /// Throws unless `path` is a regular file (a FIFO would block a reader forever, a directory
    /// or device is never data). Returns its size.
    @discardableResult
    public static func regularFile(_ path: String) throws -> Int {
        if let why = RegularFile.problem(path) { throw EngineError.data(file: path, message: why) }
        var st = stat()
        stat(path, &st)
        return Int(st.st_size)
    }

    /// The product of `factors`, or nil when it overflows, a factor is negative, or it exceeds `limit`.
    public static func product(_ factors: [Int], limit: Int = Int.max) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, o) = p.multipliedReportingOverflow(by: f)
            guard !o, r <= limit else { return nil }
            p = r
        }
        return p
    }

    /// The whole file, after the regular-file check.
    public static func contents(_ path: String) throws -> Data {
        try regularFile(path)
        guard let d = FileManager.default.contents(atPath: path) else {
            throw EngineError.data(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        return d
    }
}
