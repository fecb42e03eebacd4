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

    /// The run logs a path names: a file itself, or every `.jsonl` file, every TensorBoard run
    /// directory (one holding `events.out.tfevents.*` files) and every W&B run file (`.wandb`)
    /// below a directory, sorted, so that a session directory, a whole runs root, a TensorBoard
    /// log root or a `wandb/` directory can be replayed.
    public static func logFiles(at path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RunLogError.io(path: path, message: RegularFile.whyMissing(path))
        }
        guard isDir.boolValue else { return [path] }
        guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
        var logs = Set<String>()
        for case let f as String in e {
            let name = (f as NSString).lastPathComponent
            // Only regular files are logs: a FIFO or device named like one is passed over, never opened.
            guard RegularFile.problem((path as NSString).appendingPathComponent(f)) == nil else { continue }
            if (f.hasSuffix(".jsonl") && !f.hasSuffix(ControlChannel.suffix)) || f.hasSuffix(WandBReader.fileSuffix) {
                logs.insert((path as NSString).appendingPathComponent(f))
            } else if name.hasPrefix(TensorBoardReader.filePrefix) {
                let dir = (f as NSString).deletingLastPathComponent
                logs.insert(dir.isEmpty ? path : (path as NSString).appendingPathComponent(dir))
            }
        }
        return logs.sorted()
    }

    /// A name from a log (anyone may have written it) as one safe path component: letters, digits
    /// and `._-+=@` kept, everything else (separators, control characters, spaces, non-ASCII) as
    /// `_`; no leading dot (so no `.` or `..`); at most 100 characters; never empty.
    public static func safeName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=@")
        var s = String(name.map { allowed.contains($0) ? $0 : "_" }.prefix(100))
        while s.hasPrefix(".") { s = "_" + s.dropFirst() }
        return s.isEmpty ? "run" : s
    }

    /// `safeName` of each, made distinct with `-2`, `-3`, … where two come out the same.
    public static func safeNames(_ names: [String]) -> [String] {
        var out: [String] = []
        for n in names.map(safeName) {
            var name = n, k = 1
            while out.contains(name) { k += 1; name = "\(n)-\(k)" }
            out.append(name)
        }
        return out
    }

    /// What wrote a log `logFiles` returned.
    public enum Format { case runLog, tensorBoard, wandb }

    public static func format(_ log: String) -> Format {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: log, isDirectory: &isDir) && isDir.boolValue { return .tensorBoard }
        return log.hasSuffix(WandBReader.fileSuffix) ? .wandb : .runLog
    }

    /// Reads a whole log of any kind.
    public static func read(_ log: String) throws -> RunLog {
        switch format(log) {
        case .runLog: try RunLogReader.read(log)
        case .tensorBoard: try TensorBoardReader.read(log)
        case .wandb: try WandBReader.read(log)
        }
    }

    /// A follower of a log of any kind.
    public static func follower(_ log: String) -> any RunLogFollower {
        switch format(log) {
        case .runLog: RunLogReader(path: log)
        case .tensorBoard: TensorBoardReader(directory: log)
        case .wandb: WandBReader(path: log)
        }
    }

    /// One distinct display name per log: the run's own id where no other log shares it, else
    /// its file name, else as many trailing path components as it takes (logs of several
    /// sessions, or renamed copies of one run, can share an id).
    public static func distinctNames(_ names: [String], paths: [String]) -> [String] {
        var out = names
        for depth in 1... {
            let counts = Dictionary(out.map { ($0, 1) }, uniquingKeysWith: +)
            let clashing = out.indices.filter { counts[out[$0]]! > 1 }
            if clashing.isEmpty { break }
            if clashing.allSatisfy({ depth > components(paths[$0]).count }) {
                for i in clashing { out[i] = paths[i] } // identical tails: the whole path
                break
            }
            for i in clashing { out[i] = trailing(paths[i], depth) }
        }
        return out
    }

    /// A name for a log found while following a directory: its file name, or more of its path
    /// when a log already followed has that name. Names already given never change.
    public static func distinctName(for path: String, taken: Set<String>) -> String {
        let n = components(path).count
        return (1...n).lazy.map { trailing(path, $0) }.first { !taken.contains($0) } ?? path
    }

    /// A path's components without its extension; a W&B run file `run-<id>.wandb` as `<id>`.
    private static func components(_ path: String) -> [String] {
        var c = ((path as NSString).deletingPathExtension as NSString).pathComponents.filter { $0 != "/" }
        if path.hasSuffix(WandBReader.fileSuffix), !c.isEmpty { c[c.count - 1] = WandBReader.runID(file: path) }
        return c
    }

    private static func trailing(_ path: String, _ k: Int) -> String {
        components(path).suffix(k).joined(separator: "/")
    }
}
