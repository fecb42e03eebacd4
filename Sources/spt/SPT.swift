import ArgumentParser
import Foundation
import SPTCommandLine
import SPTEngine

@main
struct SPT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spt",
        abstract: "Train visual prompts (VPT/SPT) on a frozen ViT, headless.",
        subcommands: [Info.self, Train.self, Compare.self, Tasks.self, Backbones.self, Probe.self, Embed.self, Pretrain.self, Export.self, ReportCommand.self, Bench.self, SelftestWriter.self])

    static func main() {
        BLASCore.relaunchIfUndetected()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // Foundation's file errors as "path: reason", never a domain-and-code dump.
            exit(withError: readableError(error))
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe backbones (built-in names, .safetensors files or hub folders); without one, the engine's build and BLAS facts.")
    @Argument(help: "Backbones to describe.") var backbones: [String] = []
    @OptionGroup var input: InputFlags

    func run() throws {
        if backbones.isEmpty {
            print("spt \(engineVersion)")
            print("BLAS core: \(BLASCore.description)")
        }
        for name in backbones { try input.backbone(name).description.forEach { say($0) } }
    }
}

