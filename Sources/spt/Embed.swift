import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the pre-logits features of every image of a task split as safetensors (with labels; logits when the checkpoint has a head).")
    @OptionGroup var frozen: FrozenBackboneFlags
    @Option(help: "train, val (published divisions only: VTAB-1k val200, FGVC val.json) or test.") var split = "test"
    @Flag(help: "Also write each block's output averaged over the patch tokens (block_means [N, depth, D]).") var blockMeans = false
    @Option(help: "Output .safetensors file.") var out: String

    func validate() throws {
        try OptionCheck.require(["train", "val", "test"].contains(split), "split", split, "must be train, val or test")
    }

    func run() throws {
        try SafeOutput.check(out, inputs: InputFlags.readPaths(task: frozen.task, backbone: frozen.backbone))
        let (b, source) = try frozen.load()
        let task = frozen.task, pooling = frozen.pooling
        let data: Dataset
        switch split {
        case "test": data = source.test
        case "val":
            guard let given = source.given else { throw EngineError.invalidArgument("--split val: \(task) has no published train/val division") }
            data = source.train.subset(given.val)
        default: data = source.train
        }
        let phases = PhaseReporter(say)
        let e = Features.compute(b, data, pooling: pooling, blockMeans: blockMeans, precision: frozen.resolvedPrecision) {
            phases.report(.embedding(done: $0, total: $1))
        }
        let N = data.count, D = b.config.dim
        var tensors: [(name: String, shape: [Int], values: [Float])] = [("features", [N, D], e.features), ("labels", [N], data.labels.map(Float.init))]
        if let m = e.blockMeans { tensors.append(("block_means", [N, b.config.depth, D], m)) }
        if let l = e.logits { tensors.append(("logits", [N, l.count / max(1, N)], l)) }
        try SafeTensors.write(path: out, tensors: tensors, metadata: [
            "backbone": b.name, "backbone_hash": b.hash, "task": task, "split": split, "pooling": (pooling ?? b.pooling).rawValue,
            "preprocessing": b.preprocessing.summary, "normalization": "mean \(b.norm.mean) std \(b.norm.std)",
            "classes": data.classNames.joined(separator: "\n"), "engine": engineVersion])
        say("\(out): \(N) × \(D) features of \(task) \(split) (\(b.name))")
    }
}
