import Foundation
import Testing
import TestSupport
@testable import SPTEngine

@Suite struct LRSearchTests {
    /// Val accuracy peaking at lr = 0.3 (log scale), a grid whose best point is its top edge.
    static func peaked(_ lr: Float, _ wd: Float) -> Double? {
        0.9 - 0.1 * abs(log10(Double(lr)) - log10(0.3)) - (wd > 0.001 ? 0.01 : 0)
    }

    @Test func aPickOnTheTopEdgeGrowsTheGridUntilBracketed() {
        var tried: [Float] = []
        let r = LRSearch(lrGrid: [1e-3, 3e-3, 1e-2, 3e-2], wdGrid: [1e-4, 1e-2]).run { lr, wd in
            tried.append(lr); return [Self.peaked(lr, wd)]
        }!
        #expect(r.extensions == [0.1, 0.3, 1])
        #expect(r.best.lr == 0.3 && r.best.weightDecay == 1e-4)
        #expect(r.bracketed)
        #expect(r.points.count == 14 && tried.count == 14)  // 7 rates × 2 weight decays
    }

    @Test func aPickOnTheBottomEdgeGrowsDownwards() {
        let r = LRSearch(lrGrid: [1, 3], wdGrid: [0]).run { lr, _ in [Self.peaked(lr, 0)] }!
        #expect(r.extensions == [0.3, 0.1])
        #expect(r.best.lr == 0.3 && r.bracketed)
    }

    @Test func anInteriorPickRunsTheGridAlone() {
        let r = LRSearch(lrGrid: [0.1, 0.3, 1], wdGrid: [0]).run { lr, _ in [Self.peaked(lr, 0)] }!
        #expect(r.extensions.isEmpty && r.bracketed && r.best.lr == 0.3)
    }

    @Test func theBoundStopsTheSearchAndSaysSo() {
        var s = LRSearch(lrGrid: [1e-5], wdGrid: [0])
        s.maxExtensions = 2
        let r = s.run { lr, _ in [Double(lr)] }!  // higher is always better
        #expect(r.extensions == [3e-5, 1e-4] && r.best.lr == 1e-4 && !r.bracketed)
    }

    @Test func divergedRatesBracketAndTiesGoToTheSmallerRate() {
        // Equal accuracies: the smaller rate wins.
        let r = LRSearch(lrGrid: [1e-3, 1e-2, 3e-2, 0.1], wdGrid: [0]).run { lr, _ in [lr == 1e-2 || lr == 3e-2 ? 0.5 : 0.4] }!
        #expect(r.best.lr == 1e-2 && r.extensions.isEmpty && r.bracketed)
        // A plateau: the edge ties with its neighbour, the grid stays.
        let flat = LRSearch(lrGrid: [1e-5, 3e-5], wdGrid: [0]).run { _, _ in [0.23] }!
        #expect(flat.best.lr == 1e-5 && flat.extensions.isEmpty && !flat.bracketed)
        // 0.1 diverges: 3e-2 is bracketed by it.
        let d = LRSearch(lrGrid: [1e-2, 3e-2], wdGrid: [0]).run { lr, _ in [lr > 0.05 ? nil : Double(lr)] }!
        #expect(d.best.lr == 3e-2 && d.extensions == [0.1] && d.bracketed)
        #expect(LRSearch(lrGrid: [1], wdGrid: [0]).run { _, _ in [nil] } == nil)
    }

    /// One seed favours 0.1, the mean over three favours 0.03; a diverged seed rules its rate out.
    @Test func thePickGoesByTheSeedMean() {
        let acc: [Float: [Double?]] = [0.01: [0.80, 0.80, 0.80], 0.03: [0.84, 0.86, 0.85], 0.1: [0.87, 0.80, 0.81], 0.3: [0.90, nil, 0.9]]
        let r = LRSearch(lrGrid: [0.01, 0.03, 0.1, 0.3], wdGrid: [0]).run { lr, _ in acc[lr]! }!
        #expect(r.best.lr == 0.03 && r.best.seeds.count == 3)
        #expect(abs(r.best.accuracy! - 0.85) < 1e-12)
        #expect(r.points.first { $0.lr == 0.3 }!.accuracy == nil)
    }

    @Test func snapsToTheLadder() {
        #expect(LRSearch.snap(0.09) == 0.1 && LRSearch.snap(3.3333e-4) == 3e-4 && LRSearch.snap(1.5e-2) == 1.5e-2)
    }
}

/// The search `spt_torch.sweep` runs must be this one: scenarios drawn here (grids, weight decays,
/// seeds, bounds, val accuracies in 1/200 steps so that ties happen, diverged seeds) and the
/// engine's result on each are `python/tests/fixtures/lrsearch.json`, which
/// `python/tests/test_sweep.py` replays through the Python `LRSearch` and expects to equal
/// (record again with SPT_RECORD_SNAPSHOTS=1 after a deliberate change).
@Suite struct LRSearchSharedTests {
    /// A rate on the 1–3–10 ladder as its rung: 1e-2 → -4, 3e-2 → -3.
    static func rung(_ lr: Float) -> Int { Int((2 * log10(Double(lr))).rounded()) }
    static func rate(_ rung: Int) -> Float { Float(pow(10, (Double(rung) / 2).rounded(.down)) * (rung.isMultiple(of: 2) ? 1 : 3)) }
    /// A Float as the shortest decimal that reads back to it (0.003, not 0.0030000000260770321).
    static func decimal(_ f: Float) -> Double { Double("\(f)")! }

    @Test func pythonReplaysTheEnginesSearch() throws {
        var rng = RNG(seed: 2026)
        var scenarios: [[String: Any]] = []
        for _ in 0..<40 {
            let first = -8 + rng.int(7), count = 1 + rng.int(4)
            let lrGrid = (first..<(first + count)).map(Self.rate)
            let wdGrid = Array([Float(0), 1e-4, 1e-2].prefix(1 + rng.int(2)))
            let seeds = 1 + rng.int(3), peak = -10 + rng.int(12), slope = rng.int(20), noise = rng.int(2) == 0 ? 1 : 6
            var search = LRSearch(lrGrid: lrGrid, wdGrid: wdGrid)
            search.maxExtensions = rng.int(5)
            var asked: [String: [Int?]] = [:]
            let result = search.run { lr, wd -> [Double?] in
                let counts: [Int?] = (0..<seeds).map { _ in
                    rng.int(20) == 0 ? nil : max(0, 180 - slope * abs(Self.rung(lr) - peak) - rng.int(noise) - (wd > 1e-3 ? 3 : 0))
                }
                asked["\(Self.rung(lr))|\(wdGrid.firstIndex(of: wd)!)"] = counts
                return counts.map { $0.map { Double($0) / 200 } }
            }
            func point(_ p: LRSearch.Point) -> [String: Any] {
                ["lr": Self.decimal(p.lr), "weightDecay": Self.decimal(p.weightDecay), "accuracy": p.accuracy ?? NSNull(),
                 "seeds": p.seeds.map { $0 ?? NSNull() as Any }]
            }
            scenarios.append([
                "lrGrid": lrGrid.map(Self.decimal), "wdGrid": wdGrid.map(Self.decimal), "maxExtensions": search.maxExtensions,
                "valCountsOf200": asked.mapValues { $0.map { $0 ?? NSNull() as Any } },
                "result": result.map { r in
                    ["best": point(r.best), "points": r.points.map(point), "extensions": r.extensions.map(Self.decimal), "bracketed": r.bracketed] as [String: Any]
                } ?? NSNull(),
            ])
        }
        // Every outcome the search has occurs among them.
        let results = scenarios.compactMap { $0["result"] as? [String: Any] }
        #expect(results.contains { ($0["extensions"] as! [Double]).count >= 2 } && results.contains { !($0["bracketed"] as! Bool) })
        #expect(results.contains { ($0["points"] as! [[String: Any]]).contains { $0["accuracy"] is NSNull } })
        #expect(results.contains { r in  // a tie at the top, which the smaller rate wins
            (r["points"] as! [[String: Any]]).filter { $0["accuracy"] as? Double == (r["best"] as! [String: Any])["accuracy"] as? Double }.count > 1
        })
        let data = try JSONSerialization.data(withJSONObject: ["scenarios": scenarios], options: [.sortedKeys, .prettyPrinted])
        try expectSnapshot(String(decoding: data, as: UTF8.self) + "\n",
                           at: URL(fileURLWithPath: repositoryRoot + "/python/tests/fixtures/lrsearch.json"))
    }
}
