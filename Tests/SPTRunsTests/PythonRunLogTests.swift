import Foundation
import Testing
import SPTRuns
import TestSupport

/// The project's Python writer (`python/spt_torch/runlog.py`) and this reader agree: every record
/// kind with every optional field, written by Python, reads back as the Swift writer's records.
@Suite struct PythonRunLogTests {
    @Test(.enabled(if: onPath("python3"), "needs python3"))
    func whatPythonWritesSwiftReads() throws {
        let path = temporaryDirectory() + "/python.jsonl"
        let r = try runPython("import sys; sys.path.insert(0, sys.argv[2] + '/python/tests'); from test_runlog import full_log; full_log(sys.argv[1])",
                              [path, repositoryRoot])
        #expect(r.status == 0)
        let log = try RunLogReader.read(path)
        #expect(log.issues.isEmpty, "\(log.issues)")
        var expected = RecordRoundTripTests.full
        // What the writer stamps itself: the creation time; the rest is as the Swift test sets it.
        if case .header(var h) = expected[0], case .header(let got)? = log.records.first { h.created = got.created; expected[0] = .header(h) }
        #expect(log.records.count == expected.count)
        for (a, b) in zip(log.records, expected) {
            #expect(try a.encodedLine() == b.encodedLine(), "\(a.kind) differs")
        }
    }
}
