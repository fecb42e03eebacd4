import Foundation
import Testing
import TestSupport
@testable import SPTEngine

@Suite struct DefaultsTests {
    /// The val-picked learning rates are keyed by content hash: re-shipping a backbone without
    /// re-tuning would silently fall back to the generic defaults, so this fails instead.
    @Test(arguments: ["mae-tiny", "sup-tiny"])
    func shippedBackbonesHaveTheirTunedLearningRates(name: String) throws {
        let b = try Backbone.load(name)
        let table = try #require(Defaults.promptLR[b.hash], "no tuned defaults for \(name) (hash \(b.hash))")
        for s in InitStrategy.allCases {
            #expect(Defaults.hyperparameters(backbone: b, strategy: s, mode: .prompt).lr == table[s])
        }
        #expect(table[.random]! < table[.kmeans]!)
    }

    /// `spt_torch.train` reads the engine's defaults from this file: it must be what the engine
    /// declares (re-written with SPT_RECORD_SNAPSHOTS=1 after a default changes).
    @Test func thePythonSideReadsTheseDefaults() throws {
        try expectSnapshot(Defaults.exported, at: URL(fileURLWithPath: repositoryRoot + "/python/spt_torch/defaults.json"))
    }
}
