import Foundation

/// A part of a log that could not be read: a line (1-based) of a JSONL log, or the byte offset of
/// a record in a TensorBoard event file or a W&B run file.
public struct RunLogIssue: Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var unit = "line"
    public init(line: Int, message: String) { self.line = line; self.message = message }
    public init(byte: UInt64, message: String) { line = Int(byte); self.message = message; unit = "byte" }
    public var description: String { "\(unit) \(line): \(message)" }
}

/// What a reader has taken in from one run log so far.
public struct RunLog: Sendable {
    public var path: String
    public var header: RunHeader?
    public var records: [RunRecord] = []
    public var issues: [RunLogIssue] = []
    /// Well-formed lines of kinds this build does not know (skipped, as the schema allows).
    public var unknownKinds = 0
    public init(path: String) { self.path = path }

    /// Takes in records a reader of another tool's log made: the first header is the log's.
    mutating func keep(_ records: [RunRecord]) -> [RunRecord] {
        for r in records {
            if case .header(let h) = r, header == nil { header = h }
            self.records.append(r)
        }
        return records
    }
}

/// A log that another process may still be writing, read as it grows.
public protocol RunLogFollower: AnyObject {
    /// What changed since the last call, and the new records.
    func follow() throws -> (change: RunLogReader.Change, records: [RunRecord])
}

extension RunLogReader: RunLogFollower {}
extension TensorBoardReader: RunLogFollower {}
extension WandBReader: RunLogFollower {}

/// Reads a run log, incrementally: each `poll()` consumes the complete lines appended since the
/// last call, so a file that another process is still writing can be followed. A torn or garbled
/// line is skipped and reported with its line number; it never stops the reader.
public final class RunLogReader {
    public let path: String
    public private(set) var log: RunLog
    /// Bytes of the file consumed so far.
    public private(set) var offset: UInt64 = 0
    /// False for a streaming pass: records are returned by `poll` but not kept in `log`.
    public let keepsRecords: Bool
    private var pending: [UInt8] = []
    private var lineNumber = 0
    private var identity: (device: UInt64, inode: UInt64)?

    public init(path: String, keepsRecords: Bool = true) {
        self.path = path
        self.keepsRecords = keepsRecords
        log = RunLog(path: path)
    }

    /// Calls `body` with every record of a file in order, holding at most `chunk` bytes of it at
    /// once: memory does not grow with the log's length. Returns what a whole-file read would
    /// return except the records (header, issues, unknown kinds).
    @discardableResult
    public static func stream(_ path: String, chunk: Int = 1 << 20, _ body: (RunRecord) throws -> Void) throws -> RunLog {
        let r = RunLogReader(path: path, keepsRecords: false)
        while let records = try r.nextChunk(maxBytes: chunk) { try records.forEach(body) }
        r.finish()
        try r.validate()
        return r.log
    }

    /// The records of the next `maxBytes` of a file read to its end, nil once nothing is left.
    public func nextChunk(maxBytes: Int) throws -> [RunRecord]? {
        let before = offset
        let records = try poll(maxBytes: maxBytes)
        return offset == before ? nil : records
    }

    /// What happened to a followed file since the last poll.
    public enum Change: Equatable, Sendable {
        case grew
        /// The file is shorter than what was read, or another file now has its name: everything
        /// read so far is dropped and the file is read again from the start.
        case restarted(reason: String)
    }

    /// For following a file: notices truncation and replacement (a smaller size or another
    /// inode), resets the reader to the file's start in that case, then polls.
    public func follow() throws -> (change: Change, records: [RunRecord]) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw RunLogError.io(path: path, message: String(cString: strerror(errno))) }
        let id = (UInt64(st.st_dev), UInt64(st.st_ino))
        var change = Change.grew
        if let old = identity, old != id {
            change = .restarted(reason: "replaced")
        } else if UInt64(st.st_size) < offset {
            change = .restarted(reason: "truncated")
        }
        identity = id
        if case .restarted = change {
            offset = 0; pending = []; lineNumber = 0; log = RunLog(path: path)
        }
        return (change, try poll())
    }

    /// Reads a whole file. A last line without a newline is a torn write and is reported.
    /// Throws only when the file cannot be opened or is not a run log at all.
    public static func read(_ path: String) throws -> RunLog {
        let r = RunLogReader(path: path)
        _ = try r.poll()
        r.finish()
        try r.validate()
        return r.log
    }

    /// Consumes newly appended complete lines and returns the records they held.
    /// At most `maxBytes` of the file are read per call.
    @discardableResult
    public func poll(maxBytes: Int = .max) throws -> [RunRecord] {
        let h: FileHandle
        do { h = try RegularFile.openForReading(path) } catch let e as OutputError { throw RunLogError.io(path: path, message: e.message) }
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let data = (maxBytes == .max ? try h.readToEnd() : try h.read(upToCount: maxBytes)) ?? Data()
        offset += UInt64(data.count)
        pending.append(contentsOf: data)
        var fresh: [RunRecord] = []
        let consumed = pending.withUnsafeBytes { all -> Int in
            var start = 0
            while start < all.count, let nl = memchr(all.baseAddress! + start, 0x0A, all.count - start) {
                let end = all.baseAddress!.distance(to: UnsafeRawPointer(nl))
                lineNumber += 1
                if let r = parse(UnsafeRawBufferPointer(rebasing: all[start..<end])) { fresh.append(r) }
                start = end + 1
            }
            return start
        }
        pending.removeFirst(consumed)
        return fresh
    }

    /// Declares the file complete: a trailing partial line is reported as torn.
    public func finish() {
        guard !pending.isEmpty else { return }
        lineNumber += 1
        log.issues.append(RunLogIssue(line: lineNumber, message: "torn last line (\(pending.count) bytes without a newline) skipped"))
        pending = []
    }

    /// Throws when what was read so far cannot be a run log (no header first, or a newer schema).
    public func validate() throws {
        if let h = log.header, h.schema > runLogSchemaVersion {
            throw RunLogError.unsupportedVersion(path: path, version: h.schema)
        }
        if log.header == nil {
            if log.records.isEmpty && log.issues.isEmpty { throw RunLogError.notARunLog(path: path, message: "the file is empty") }
            let first = log.issues.first.map { " (\($0))" } ?? ""
            throw RunLogError.notARunLog(path: path, message: "no header record\(first)")
        }
    }

    private func parse(_ line: UnsafeRawBufferPointer) -> RunRecord? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do {
            guard let r = try RunRecord.decode(line: line) else { log.unknownKinds += 1; return nil }
            if case .header(let h) = r {
                guard log.header == nil else {
                    log.issues.append(RunLogIssue(line: lineNumber, message: "second header ignored"))
                    return nil
                }
                log.header = h
            }
            if keepsRecords { log.records.append(r) }
            return r
        } catch {
            let preview = String(decoding: line.prefix(60), as: UTF8.self)
            log.issues.append(RunLogIssue(line: lineNumber, message: "unreadable record skipped: \(preview)\(line.count > 60 ? "…" : "")"))
            return nil
        }
    }
}
