import Foundation

/// The on-disk layout: `<runs-dir>/<session>/<run>.jsonl`; one session holds the runs that were
/// started together (a comparison) and share a session id.
public enum RunDirectory {
    public static let defaultRoot = "runs"

    public static func path(root: String, session: String, run: String) -> String {
        ((root as NSString).appendingPathComponent(session) as NSString).appendingPathComponent(run + ".jsonl")
    }

    /// A new session id: sortable local time plus a short random suffix.
    public static func newSessionID(date: Date = Date()) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: date) + "-" + String(UInt32.random(in: 0..<0x10000), radix: 16)
    }

    /// The run-log files a path names: a `.jsonl` file itself, or every `.jsonl` below a
    /// directory (sorted), so that a session directory or a whole runs root can be replayed.
    public static func logFiles(at path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RunLogError.io(path: path, message: "no such file or directory")
        }
        guard isDir.boolValue else { return [path] }
        guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".jsonl") }.sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }
}
