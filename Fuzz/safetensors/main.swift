import FuzzDriver
import Foundation
import SPTFormats

// libFuzzer test: any bytes as a safetensors file; every tensor is read back.
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    guard let f = try? SafeTensors(data: Data(bytes: data, count: size), path: "fuzz") else { return 0 }
    for name in f.entries.keys { _ = try? f.floats(name) }
    return 0
})
