import FuzzDriver
import Foundation
import SPTFormats

// libFuzzer test: any bytes as an image (PNG signature first).
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    _ = try? ImageDecoder.decode(data: Data(bytes: data, count: size), path: "fuzz", maxBytes: 1 << 20)
    return 0
})
