import Testing
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
}
