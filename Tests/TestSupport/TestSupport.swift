import Foundation
import Testing

/// Compares `text` with the snapshot file at `url`; SPT_RECORD_SNAPSHOTS=1 re-records it instead
/// (never silently). A difference is reported as a line diff.
public func expectSnapshot(_ text: String, at url: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
    if ProcessInfo.processInfo.environment["SPT_RECORD_SNAPSHOTS"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    guard text != expected else { return }
    Issue.record("snapshot \(url.lastPathComponent) differs (re-record with SPT_RECORD_SNAPSHOTS=1 if intended):\n\(lineDiff(expected, text))",
                 sourceLocation: sourceLocation)
}

/// The lines that differ, numbered: `-` expected, `+` actual.
public func lineDiff(_ expected: String, _ actual: String) -> String {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false), b = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    for i in 0..<max(a.count, b.count) where (i < a.count ? a[i] : nil) != (i < b.count ? b[i] : nil) {
        if i < a.count { out.append("\(i + 1)- \(a[i])") }
        if i < b.count { out.append("\(i + 1)+ \(b[i])") }
    }
    return out.joined(separator: "\n")
}

/// A new empty directory under the system's temporary directory.
public func temporaryDirectory(_ name: String = #function) -> String {
    let d = NSTemporaryDirectory() + "spt-tests-\(name.filter(\.isLetter))-\(UInt32.random(in: 0..<UInt32.max))"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Whether a program is on PATH: tests that need it are skipped, visibly, when it is not.
public func onPath(_ program: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(program)")
    }
}

/// The repository's root (tests run Python from `python/` in it).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

/// Runs `python3 -c script args…` with the repository's `python/` importable; its exit status and stdout.
public func runPython(_ script: String, _ args: [String] = []) throws -> (status: Int32, output: String) {
    let p = Process(), out = Pipe()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    p.environment = ProcessInfo.processInfo.environment.merging(["PYTHONPATH": repositoryRoot + "/python"]) { _, new in new }
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
