import FuzzDriver
import Foundation
import SPTRuns

// libFuzzer test: any bytes as one run-log line, and every line of them as a record.
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    let all = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? RunRecord.decode(line: all)
    var start = 0
    for i in 0..<size where data[i] == 0x0A {
        _ = try? RunRecord.decode(line: UnsafeRawBufferPointer(rebasing: all[start..<i]))
        start = i + 1
    }
    return 0
})
