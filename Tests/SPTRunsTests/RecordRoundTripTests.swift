import Foundation
import Testing
import SPTRuns

/// Every record kind, with every optional field set, survives encode → decode unchanged: a field
/// that is written but never read fails here.
@Suite struct RecordRoundTripTests {
    static let full: [RunRecord] = [
        .header(RunHeader(run: "r", session: "s", created: "2026-11-29T00:00:00Z", engine: "e", task: "t", backbone: "b", backboneHash: "h",
                          strategy: "kmeans", variant: "batch-windows", deep: true, prompts: 3, mode: "prompt", pooling: "mean", optimizer: "sgd",
                          lr: 0.5, weightDecay: 0.25, epochs: 2, batch: 4, seed: 7, threads: 2, params: ["split_seed": "3"])),
        .train(TrainRecord(step: 1, epoch: 0.5, time: 1.5, loss: .infinity, lr: 1e-3, gradNorm: .nan, imagesPerSecond: 10)),
        .eval(EvalRecord(step: 2, epoch: 1, time: 2.5, split: "val", loss: 0.5, accuracy: 0.75)),
        .nmi(NMIRecord(step: 3, epoch: 1, time: 3, values: [0.1, -.infinity], mode: "attention", normalization: "arithmetic")),
        .attention(AttentionRecord(step: 3, epoch: 1, time: 3, cls: [0.25, .nan], patches: [0.125, 0.5])),
        .projection(ProjectionRecord(step: 0, centre: [[0.5, -1], [2, 3]], axes: [[1, 0, 0, 1], [0.6, 0.8, -0.8, 0.6]], explained: [[0.5, 0.25], [0.75, 0.125]],
                                     image: "AAH/", imageWidth: 3, imageHeight: 1, imageChannels: 1)),
        .map(MapRecord(step: 3, epoch: 1, time: 3, prompts: [[0.5, 1.5], [-2, 0]], patches: [[1, 2, 3, 4], [-1, -2, .nan, 4]],
                       nearest: [[0.25], [.infinity]], imageNearest: [[0, 0], [0, 0]], imageAttention: [[100, 50], [25, 100]])),
        .initialization(InitRecord(step: 0, strategy: "kmeans", variant: "batch-windows", seconds: 1, gatherSeconds: 2, iterations: 9,
                                   inertia: 4.5, images: 800, cosine: [0.5, -0.25], effectiveRank: [2.5, 3], nearest: [0.75, .infinity])),
        .segment(SegmentRecord(step: 5, time: 6, strategy: "sample", variant: "v", reason: "key 5")),
        .event(EventRecord(step: 6, time: 7, .error, message: "disk full")),
        .event(EventRecord(step: 7, time: 8, .other("checkpoint"), message: "a writer's own event")),
        .scalar(ScalarRecord(step: 8, time: 9, tag: "gpu/memory_gb", value: 11.5)),
    ]

    /// No property of the record (or of its payload) is nil.
    func everyFieldSet(_ r: RunRecord) -> Bool {
        let payload = Mirror(reflecting: r).children.first!.value
        return Mirror(reflecting: payload).children.allSatisfy { child in
            let m = Mirror(reflecting: child.value)
            return m.displayStyle != .optional || !m.children.isEmpty
        }
    }

    @Test func everyKindWithEveryFieldRoundTrips() throws {
        let kinds = Set(Self.full.map(\.kind))
        #expect(kinds == ["header", "train", "eval", "nmi", "attention", "projection", "map", "init", "segment", "event", "scalar"], "a record kind is missing from the test")
        for r in Self.full {
            #expect(everyFieldSet(r), "\(r.kind): set every optional field in the test")
            let line = try r.encodedLine()
            let back = try line.withUnsafeBytes { try RunRecord.decode(line: $0) }
            // NaN ≠ NaN: compare the encoded lines of the decoded records too.
            #expect(try back?.encodedLine() == line, "\(r.kind): \(String(decoding: line, as: UTF8.self))")
            if !["train", "attention", "map"].contains(r.kind) { #expect(back == r) }
        }
    }

    @Test func unknownEventsAreKeptByName() {
        #expect(RunEvent(name: "checkpoint") == .other("checkpoint") && RunEvent(name: "pause") == .pause)
        #expect(RunEvent.known.allSatisfy { RunEvent(name: $0.name) == $0 })
    }
}
