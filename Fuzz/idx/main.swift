import FuzzDriver
import Foundation
import SPTFormats

// libFuzzer test: any bytes as an IDX images file and as an IDX labels file.
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? IDXReader.images(bytes: bytes, path: "fuzz")
    _ = try? IDXReader.labels(bytes: bytes, path: "fuzz")
    return 0
})
