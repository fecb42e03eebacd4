import Foundation
import Testing
import SPTEngine
import TestSupport

/// `python/spt_torch/rng.py` draws what the engine draws: the generator's numbers, the VTAB-1k
/// selection (its `train_selection` hash) and an epoch's order — what a PyTorch run needs to see
/// the same images in the same order.
@Suite struct PythonRNGTests {
    @Test(.enabled(if: onPath("python3"), "needs python3"))
    func pythonDrawsWhatTheEngineDraws() throws {
        let script = """
        import json
        from spt_torch.rng import RNG, vtab_selection, selection_hash, epoch_order
        r = RNG(7)
        print(json.dumps({"next": [str(r.next()) for _ in range(3)], "perm": RNG(11).permutation(10),
                          "tune": selection_hash(vtab_selection(2000, 3, "tune")), "final": selection_hash(vtab_selection(2000, 3, "final")),
                          "order": epoch_order(50, 1, 2), "uniform": RNG(5).uniform()}))
        """
        let output = try runPython(script).output
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])

        var r = RNG(seed: 7)
        #expect(obj["next"] as? [String] == (0..<3).map { _ in String(r.next()) })
        var r11 = RNG(seed: 11)
        #expect(obj["perm"] as? [Int] == r11.permutation(10))
        var r5 = RNG(seed: 5)
        #expect((obj["uniform"] as? Double).map(Float.init) == r5.uniform())
        let images = Dataset(name: "n", images: [Float](repeating: 0, count: 2000), labels: [Int32](repeating: 0, count: 2000),
                             channels: 1, height: 1, width: 1, classes: 1)
        let source = DataSplits(train: images, test: images)
        #expect(obj["tune"] as? String == TaskData(source: source, protocol: .tune, seed: 3).selectionHash)
        #expect(obj["final"] as? String == TaskData(source: source, protocol: .final, seed: 3).selectionHash)
        #expect(obj["order"] as? [Int] == PromptTrainer.epochOrder(count: 50, seed: 1, epoch: 2))
    }
}
