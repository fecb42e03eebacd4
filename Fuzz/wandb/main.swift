import FuzzDriver
import Foundation
import SPTRuns

// libFuzzer test: any bytes as a W&B run file (framing, protobuf records, values as JSON).
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    _ = WandBReader.read(bytes: Array(UnsafeBufferPointer(start: data, count: size)), path: "fuzz.wandb")
    return 0
})
