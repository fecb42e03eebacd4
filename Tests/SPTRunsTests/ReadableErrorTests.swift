import Foundation
import Testing
import SPTRuns

/// Foundation's file errors reach the user as "path: reason" (the executables print errors through
/// `readableError`), never as an NSCocoaErrorDomain dump.
@Suite struct ReadableErrorTests {
    @Test func cocoaFileErrorsNameThePathAndTheReason() throws {
        do {
            _ = try String(contentsOfFile: "/nonexistent/spt-x.txt", encoding: .utf8)
            Issue.record("read a file that does not exist")
        } catch {
            let text = "\(readableError(error))"
            #expect(text.hasPrefix("/nonexistent/spt-x.txt: ") && text.contains("no such file"), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code="), "\(text)")
        }
        let other = OutputError(path: "p", message: "m")
        #expect(readableError(other) as? OutputError == other)
    }
}
