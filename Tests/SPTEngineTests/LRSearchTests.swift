import Foundation
import Testing
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
