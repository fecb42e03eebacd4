import ArgumentParser
import Foundation
import SPTEngine

@main
struct SPT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spt",
        abstract: "Train visual prompts (VPT/SPT) on a frozen ViT, headless.",
        subcommands: [Info.self, Train.self, Compare.self, Tasks.self, Backbones.self, Probe.self, Pretrain.self, Export.self, Bench.self, SelftestWriter.self])

    static func main() {
        BLASCore.relaunchIfUndetected()
        main(nil)
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the engine's build and BLAS facts.")
    func run() {
        print("spt \(engineVersion)")
        print("BLAS core: \(BLASCore.description)")
    }
}
