import ArgumentParser
import SPTEngine

/// The flags of commands that read features off a frozen backbone (`spt probe`, `spt embed`).
public struct FrozenBackboneFlags: ParsableArguments {
    public init() {}
    @Option(help: "Backbone name, file or hub folder.") public var backbone = "mae-tiny"
    @OptionGroup public var input: InputFlags
    @Option(help: "Task name or directory.") public var task = "fashion-mnist"
    @Option(help: "Head input: cls or mean (default: the backbone's).") public var pooling: Pooling?
    @Option(help: "Worker threads.") public var threads = 2
    @Option(help: "fp32, bf16 or auto (see spt train --help).") public var precision: Precision = .fp32

    public func validate() throws {
        try OptionCheck.threadCount(threads)
        _ = try precision.resolved()
    }

    /// The precision the backbone runs in (auto resolved).
    public var resolvedPrecision: Precision { (try? precision.resolved().0) ?? .fp32 }

    /// Sets the threads, loads the backbone and the task, and checks the pooling against it.
    public func load() throws -> (backbone: Backbone, source: DataSplits) {
        Parallel.setThreads(threads)
        let b = try input.backbone(backbone)
        try OptionCheck.pooling(pooling, config: b.config)
        return (b, try b.loadTask(task))
    }
}
