import ArgumentParser
import Foundation
import SPTEngine

/// How images reach the backbone, for every command that loads one.
public struct InputFlags: ParsableArguments {
    public init() {}
    @Option(help: "Run a timm backbone at this image size (position embeddings resampled; default: its config's).") var imageSize: Int?
    @Option(help: "Image files: crop (timm's eval transform: resize by crop_pct, centre crop) or squash (VTAB: resize to the size).") var resize: ImagePreprocessing.Mode?
    @Option(parsing: .upToNextOption, help: "Per-channel normalization mean (default: the backbone's).") var mean: [Float] = []
    @Option(parsing: .upToNextOption, help: "Per-channel normalization std (default: the backbone's).") var std: [Float] = []

    public var overrides: InputOverrides {
        InputOverrides(imageSize: imageSize, resize: resize, mean: mean.isEmpty ? nil : mean, std: std.isEmpty ? nil : std)
    }
    public func backbone(_ name: String) throws -> Backbone { try Backbone.load(name, overrides: overrides) }

    /// What a command reads, for the output rule (`SafeOutput`): the task and backbone arguments,
    /// and the config.json beside a checkpoint file. Built-in names are not paths and are skipped there.
    public static func readPaths(task: String, backbone: String) -> [String] {
        [task, backbone, ((backbone as NSString).deletingLastPathComponent as NSString).appendingPathComponent("config.json")]
    }
}

extension ImagePreprocessing.Mode: ExpressibleByArgument {}
