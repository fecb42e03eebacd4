import Foundation

/// A line that could not be read, with its 1-based line number.
public struct RunLogIssue: Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
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
}

/// Reads a run log, incrementally: each `poll()` consumes the complete lines appended since the
/// last call, so a file that another process is still writing can be followed. A torn or garbled
/// line is skipped and reported with its line number; it never stops the reader.
public final class RunLogReader {
    public let path: String
    public private(set) var log: RunLog
    private var offset: UInt64 = 0
    private var pending: [UInt8] = []
    private var lineNumber = 0

    public init(path: String) {
        self.path = path
        log = RunLog(path: path)
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
    @discardableResult
    public func poll() throws -> [RunRecord] {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw RunLogError.io(path: path, message: FileManager.default.fileExists(atPath: path) ? "cannot open" : "file not found")
        }
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let data = try h.readToEnd() ?? Data()
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
            log.records.append(r)
            return r
        } catch {
            let preview = String(decoding: line.prefix(60), as: UTF8.self)
            log.issues.append(RunLogIssue(line: lineNumber, message: "unreadable record skipped: \(preview)\(line.count > 60 ? "…" : "")"))
            return nil
        }
    }
}
