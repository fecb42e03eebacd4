import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in tasks (or preview one's images as text).")
    @Option(help: "Print the first training images of this task as text, with labels.") var preview: String?
    @Option(help: "How many images --preview prints.") var count = 4
    @Option(help: "Write this task (built-in or directory) as a VTAB-1k folder (PNG + lists) that both engines read.") var export: String?
    @Option(help: "The folder --export writes (new or empty).") var out: String?
    @Option(help: "With --export: the seed of the VTAB-1k draw.") var splitSeed: UInt64 = 0
    @Option(help: "With --export: the size built-in generated tasks are rendered at.") var imageSize = 28

    func validate() throws {
        try OptionCheck.positive("count", count)
        try OptionCheck.require((export == nil) == (out == nil), "export/--out", "", "go together")
        try OptionCheck.require(imageSize >= 8 && imageSize <= 1024, "image-size", imageSize, "must be 8…1024")
    }

    func run() throws {
        if let preview { return try show(preview) }
        if let export, let out {
            let n = try TaskExport.write(try TaskCatalog.load(export, imageSize: imageSize), splitSeed: splitSeed, to: out)
            return say("\(out): \(export) as a VTAB-1k folder — train800 \(n.train), val200 \(n.val), test \(n.test) (split seed \(splitSeed))")
        }
        for t in TaskCatalog.builtins {
            let status: String
            do {
                let d = try TaskCatalog.load(t.name, imageSize: 28)
                status = "\(d.train.count) train / \(d.test.count) test, \(d.train.classes) classes, \(d.train.channels)×\(d.train.height)×\(d.train.width)"
            } catch {
                status = "unavailable: \(error)"
            }
            say("\(t.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(status)\n                 \(t.describe); source: \(t.source)")
        }
        say("Any directory in MNIST-layout IDX format also works as --task.")
    }

    private func show(_ name: String) throws {
        let d = try TaskCatalog.load(name, imageSize: 28).train
        let ramp = Array(" .:-=+*#%@")
        for i in 0..<min(count, d.count) {
            say("\(name) #\(i): \(d.classNames[Int(d.labels[i])])")
            for y in 0..<d.height {
                let row = (0..<d.width).map { x -> Character in
                    let v = d.images[i * d.imageSize + y * d.width + x]
                    return ramp[min(ramp.count - 1, Int(v * Float(ramp.count)))]
                }
                say(String(row))
            }
        }
    }
}

struct Backbones: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in backbones with their metadata, or describe the files given (as spt info).")
    @Argument(help: "Backbone files or hub folders to describe.") var files: [String] = []
    @Option(help: "Print only the file of this built-in backbone (what `python -m spt_torch.train` resolves a name with).") var path: String?
    @OptionGroup var input: InputFlags

    func run() throws {
        if let path {
            guard let file = Backbone.shippedPath(path) else {
                throw ValidationError("--path \(path): not a shipped backbone of this build (\(Backbone.builtinNames.filter { Backbone.shippedPath($0) != nil }.joined(separator: ", ")))")
            }
            return print(file)
        }
        for name in files { try input.backbone(name).description.forEach { say($0) } }
        if !files.isEmpty { return }
        for name in Backbone.builtinNames {
            do {
                let b = try Backbone.load(name)
                let c = b.config
                say("\(name): ViT D=\(c.dim) depth=\(c.depth) heads=\(c.heads) mlp=\(c.mlpDim) patch=\(c.patchSize) input=\(c.channels)×\(c.imageSize)² pooling=\(b.pooling.rawValue) hash=\(b.hash)")
                for k in ["method", "data", "epochs", "seed", "final_loss", "final_test_accuracy", "train_seconds", "train_seconds_this_invocation", "command", "linear_probe"] {
                    if let v = b.metadata[k] { say("    \(k): \(v)") }
                }
                if let p = b.path { say("    file: \(p)") }
            } catch {
                say("\(name): not available in this build (\(error))")
            }
        }
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Linear probe of a frozen backbone: softmax regression on its features, test accuracy.")
    @OptionGroup var frozen: FrozenBackboneFlags
    @Option(help: "Training images (the first N of the training split; 0 = all).") var trainImages = 10_000
    @Option(help: "Epochs over the features.") var epochs = 30

    func validate() throws {
        try OptionCheck.positive("epochs", epochs)
        try OptionCheck.require(trainImages >= 0, "train-images", trainImages, "must be ≥ 0 (0: all)")
    }

    func run() throws {
        let (b, d) = try frozen.load()
        let train = trainImages > 0 && trainImages < d.train.count ? d.train.subset(Array(0..<trainImages)) : d.train
        let r = LinearProbe.run(b, train: train, test: d.test, pooling: frozen.pooling, epochs: epochs, precision: frozen.resolvedPrecision)
        say(String(format: "%@ on %@: linear probe test accuracy %.2f%% (train %.2f%%; %d train / %d test images; features %.1fs)",
                   b.name, frozen.task, r.testAccuracy * 100, r.trainAccuracy * 100, r.trainImages, r.testImages, r.featureSeconds))
    }
}
