import FuzzDriver
import Foundation
import SPTFiles
import SPTFormats

// libFuzzer test: any bytes as a VTAB-1k list, as an FGVC split file and as a config.json's JSON
// (the byte-offset parser that names where a text stops being JSON).
exit(spt_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    _ = try? ImageFolderReader.list(bytes, root: "/nonexistent", path: "fuzz.txt")
    _ = try? ImageFolderReader.json(bytes, root: "/nonexistent", path: "fuzz.json")
    _ = JSONValue.syntaxProblem(bytes)
    return 0
})
