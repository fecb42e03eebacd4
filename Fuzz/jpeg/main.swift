import FuzzDriver
import Foundation
import SPTFormats

// libFuzzer test: any bytes after a JPEG signature, decoded and preprocessed as a task's images are.
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    let bytes = Data([0xFF, 0xD8]) + Data(bytes: data, count: size)
    if let img = try? ImageDecoder.decode(data: bytes, path: "fuzz", maxBytes: 1 << 20) {
        _ = try? ImagePreprocessing(size: 8).apply(img, channels: 3)
    }
    return 0
})
