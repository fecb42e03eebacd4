import Foundation
import SPTRuns

/// A run's whole training state at a step, so that a killed or preempted `spt train` continues
/// where it stopped with the same losses, bit for bit: the trained parameters, the optimizer's
/// moments and step count, the epoch's running sums, the active seconds, and how long the run's
/// log was — records after that were written past the checkpoint and are written again. The data
/// order and every step's random draws derive from (seed, step), so they need no state.
public struct TrainerCheckpoint {
    public let path: String
    public let step: Int
    /// The length of the run log when the checkpoint was written.
    public let logBytes: UInt64
    let file: SafeTensors

    /// Where a run's checkpoint lives: beside its log (`kmeans.jsonl` → `kmeans.checkpoint.safetensors`).
    public static func path(forLog log: String) -> String {
        (log.hasSuffix(".jsonl") ? String(log.dropLast(".jsonl".count)) : log) + ".checkpoint.safetensors"
    }

    /// Reads a checkpoint; the options it was written with must be `options` exactly.
    public init(path: String, options: TrainOptions) throws {
        func fail(_ m: String) -> EngineError { .checkpoint(file: path, message: m) }
        file = try SafeTensors(path: path)
        self.path = path
        guard let o = file.metadata["options"], let saved = try? JSONDecoder().decode(TrainOptions.self, from: Data(o.utf8)) else {
            throw fail("not a training checkpoint (no options in its metadata)")
        }
        guard saved == options else { throw fail("written by a run with other options; resume with the same flags, or delete it to start over") }
        guard let s = Int(file.metadata["step"] ?? ""), s >= 0 else { throw fail("step \(file.metadata["step"] ?? "(missing)"): not a step") }
        guard let b = UInt64(file.metadata["log_bytes"] ?? "") else { throw fail("log_bytes \(file.metadata["log_bytes"] ?? "(missing)"): not a length") }
        step = s; logBytes = b
    }
}

extension PromptTrainer {
    /// Writes the training state (atomically: temporary file, fsync, rename) after syncing the log.
    public func saveCheckpoint(to path: String, log writer: RunLogWriter) throws {
        writer.sync()
        var tensors = SafeTensors.tensors(of: model.task, prefix: "task.")
        if model.backboneGrads != nil { tensors += SafeTensors.tensors(of: model.backbone, prefix: "backbone.") }
        tensors += optimizer.stateTensors
        let state = trainingState
        let meta = ["options": String(decoding: try JSONEncoder().encode(options), as: UTF8.self), "step": String(step),
                    "strategy": strategy.rawValue, "optimizer_steps": String(optimizer.steps),
                    "active_seconds": String(state.activeSeconds), "epoch_loss": String(state.epochLoss),
                    "epoch_correct": String(state.epochCorrect), "epoch_seen": String(state.epochSeen),
                    "log_bytes": String(try writer.length()), "engine": engineVersion, "nmi_every": String(nmiEvery),
                    "map_basis": try mapBasis.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? ""]
        try SafeTensors.write(path: path, tensors: tensors, metadata: meta)
    }

    /// Puts a checkpoint's state into this trainer (built with the same options, backbone and task).
    func restore(_ c: TrainerCheckpoint) throws {
        func fail(_ m: String) -> EngineError { .checkpoint(file: c.path, message: m) }
        let f = c.file
        guard c.step < totalSteps else { throw fail("step \(c.step): the run has \(totalSteps) steps; nothing is left to resume") }
        try f.load(into: model.task, prefix: "task.")
        if model.backboneGrads != nil { try f.load(into: model.backbone, prefix: "backbone.") }
        let meta = f.metadata
        guard let strategy = meta["strategy"].flatMap(InitStrategy.init(rawValue:)), let optSteps = Int(meta["optimizer_steps"] ?? ""),
              let active = Double(meta["active_seconds"] ?? ""), let loss = Double(meta["epoch_loss"] ?? ""),
              let correct = Int(meta["epoch_correct"] ?? ""), let seen = Int(meta["epoch_seen"] ?? ""),
              let every = Int(meta["nmi_every"] ?? ""), every >= 0 else {
            throw fail("its metadata lacks the trainer's state (strategy, optimizer steps, epoch sums, NMI cadence)")
        }
        nmiEvery = every
        if let b = meta["map_basis"], !b.isEmpty {
            guard let basis = try? JSONDecoder().decode(ProjectionBasis.self, from: Data(b.utf8)) else { throw fail("map_basis: not a projection basis") }
            mapBasis = basis
        }
        try optimizer.restore(from: f, steps: optSteps)
        restoreState(step: c.step, strategy: strategy, state: (activeSeconds: active, epochLoss: loss, epochCorrect: correct, epochSeen: seen))
    }
}
