import Testing
import SPTRuns

@Suite struct ReplayTests {
    func makeLog() -> RunLog {
        var log = RunLog(path: "r1.jsonl")
        log.records = sampleRecords()
        log.header = sampleHeader()
        return log
    }

    @Test func releasesRecordsOnAScaledClock() {
        var r = Replay(logs: [makeLog()])
        #expect(r.advance(realSeconds: 0).items.count == 3)   // header, init, NMI at t = 0
        r.speed = 2
        #expect(r.advance(realSeconds: 0.5).items.map(\.record.step) == [1, 2])  // clock 1.0
        r.paused = true
        #expect(r.advance(realSeconds: 10).items.isEmpty)
        r.paused = false
        _ = r.advance(realSeconds: 10)
        #expect(r.finished)
    }

    @Test func stepAndSeek() {
        var r = Replay(logs: [makeLog(), makeLog()])
        let first = r.stepForward()
        #expect(first.items.count == 6 && r.currentStep == 0)
        #expect(r.stepForward().items.map(\.record.step) == [1, 1])
        let fwd = r.seek(step: 3)
        #expect(!fwd.reset && r.currentStep == 3)
        let back = r.seek(step: 1)
        #expect(back.reset && back.items.count == 8 && r.currentStep == 1)
        #expect(r.clock == 0.5)
    }
}
