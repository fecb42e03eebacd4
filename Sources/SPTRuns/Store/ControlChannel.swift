import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The command channel beside a run log that another process trains: `<run>.control.jsonl`, to
/// which the dashboard appends one JSON line per run key (one `write(2)`, O_APPEND), and which
/// that process polls between steps (`python/spt_torch/control.py`; docs/guide.md, "Run logs"):
/// `{"command":"switch","strategy":"kmeans"}`, `{"command":"pause"}`, `{"command":"resume"}`,
/// `{"command":"restart"}`.
public enum ControlChannel {
    public static let suffix = ".control.jsonl"

    public enum Command: Equatable, Sendable {
        case switchStrategy(String), pause, resume, restart

        /// The command's name on the wire (shared with `spt_torch`'s vocabulary).
        public var name: String {
            switch self {
            case .switchStrategy: "switch"
            case .pause: "pause"
            case .resume: "resume"
            case .restart: "restart"
            }
        }

        var line: String {
            var fields = ["\"command\":\"\(name)\""]
            if case .switchStrategy(let s) = self {
                fields.append("\"strategy\":" + String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self))
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    /// `runs/s/kmeans.jsonl` → `runs/s/kmeans.control.jsonl`.
    public static func path(forLog log: String) -> String {
        (log.hasSuffix(".jsonl") ? String(log.dropLast(".jsonl".count)) : log) + suffix
    }

    /// Appends `command` to the channel of the run whose log is `log`. Only to a regular file:
    /// never through a symlink, never blocking on a FIFO.
    public static func send(_ command: Command, toLog log: String) throws {
        let path = path(forLog: log)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
        guard fd >= 0 else { throw RunLogError.io(path: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw RunLogError.io(path: path, message: "not a regular file; no command written")
        }
        let bytes = Array((command.line + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else {
            throw RunLogError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }
}
