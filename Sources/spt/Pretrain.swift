import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretrain a backbone on Fashion-MNIST's training split (MAE or supervised); resumable.")

    @Option(help: "mae or supervised.") var method: PretrainOptions.Method = .mae
    @Option(help: "Architecture preset: \(ViTConfig.presets.keys.sorted().joined(separator: ", ")).") var config = "tiny"
    @Option(help: "Epochs over the 60,000 training images.") var epochs = 10
    @Option(help: "Batch size.") var batch = 256
    @Option(help: "Peak learning rate (AdamW, 1 warmup epoch, cosine).") var lr: Float = 1e-3
    @Option(help: "MAE mask ratio.") var maskRatio: Float = 0.75
    @Option(help: "MAE: reconstruct per-patch normalized pixels (true/false).") var normPix = true
    @Option(help: "Seed for initialization, data order, masks and augmentation.") var seed: UInt64 = 0
    @Option(help: "Worker threads (Swift loops and OpenBLAS).") var threads = 2
    @Option(help: "Output backbone file (.safetensors).") var out: String
    @Option(help: "fp32, bf16 (every product's inputs in bf16, the fp32 weights train) or auto; a run resumes only in the precision it started with.")
    var precision: Precision = .fp32

    func validate() throws {
        try SafeOutput.check(out, inputs: [])
        try OptionCheck.threadCount(threads)
        try options().validate()
    }

    func options() throws -> PretrainOptions {
        guard let cfg = ViTConfig.presets[config] else {
            throw ValidationError("--config \(config): not one of \(ViTConfig.presets.keys.sorted().joined(separator: ", "))")
        }
        var options = PretrainOptions(method: method, config: cfg, epochs: epochs, batch: batch, lr: lr, seed: seed)
        options.mae.maskRatio = maskRatio
        options.mae.normPixLoss = normPix
        let resolved = try precision.resolved().0
        options.precision = resolved == .bf16 ? .bf16 : nil
        return options
    }

    func run() throws {
        Parallel.setThreads(threads)
        let options = try options()
        print("precision \(try precision.resolved().1)")
        let data = try BuiltinData.fashionMNIST()
        let trainer = try Pretrainer(options: options, train: data.train, statePath: out + ".state")
        if trainer.currentStep > 0 { print("resuming at step \(trainer.currentStep) of \(trainer.totalSteps)") }
        try trainer.run { p in
            let bar = ProgressBar.render(fraction: Double(p.step) / Double(p.totalSteps), width: 24)
            say(String(format: "%@ epoch %d/%d step %d/%d loss %.4f %.0f img/s ETA %@", bar, p.epoch + 1, options.epochs,
                       p.step, p.totalSteps, p.loss, p.imagesPerSecond, ProgressBar.duration(p.secondsLeft)))
        }
        var extra = ["command": CommandLine.arguments.joined(separator: " ")]
        if let acc = trainer.evaluate(data.test) {
            extra["final_test_accuracy"] = String(format: "%.4f", acc)
            print(String(format: "test accuracy %.2f%%", acc * 100))
        }
        try trainer.exportBackbone(to: out, extra: extra)
        print("wrote \(out)")
    }
}

extension PretrainOptions.Method: ExpressibleByArgument {}
