import FuzzDriver
import Foundation
import SPTFormats

// libFuzzer test: any bytes as a CIFAR-10 and a CIFAR-100 batch file.
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    let d = Data(bytes: data, count: size)
    for (labelBytes, classes) in [(1, 10), (2, 100)] {
        var images: [Float] = [], labels: [Int32] = []
        _ = try? CIFARReader.parse(d, file: "fuzz", labelBytes: labelBytes, classes: classes, images: &images, labels: &labels)
    }
    return 0
})
