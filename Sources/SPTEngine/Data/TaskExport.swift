import Foundation

/// A task written as a folder both engines read — the VTAB-1k layout of the VPT/NOAH code bases:
/// `images/{train,test}/<index>.png` and `train800.txt`, `val200.txt`, `train800val200.txt`,
/// `test.txt` (lines `path label`), with the division the engine draws for `splitSeed` (or the
/// source's published one). Loading the folder gives the same task: the same images (8-bit) and
/// labels, in the same order.
public enum TaskExport {
    /// Writes under the output rule: `out` new or empty, built in a staging directory and moved
    /// into place whole (`SafeOutput.directory`).
    public static func write(_ source: DataSplits, splitSeed: UInt64, to out: String) throws -> (train: Int, val: Int, test: Int) {
        var counts = (train: 0, val: 0, test: 0)
        try SafeOutput.directory(out, inputs: []) { counts = try write(source, splitSeed: splitSeed, into: $0) }
        return counts
    }

    private static func write(_ source: DataSplits, splitSeed: UInt64, into dir: String) throws -> (train: Int, val: Int, test: Int) {
        let fm = FileManager.default
        for sub in ["images/train", "images/test"] {
            try fm.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        let tune = TaskData(source: source, protocol: .tune, seed: splitSeed)
        let final = TaskData(source: source, protocol: .final, seed: splitSeed)
        let trainVal = final.selection, train = tune.selection, val = Array(trainVal.dropFirst(train.count))
        func png(_ ds: Dataset, _ i: Int, _ split: String) throws -> String {
            let rel = "images/\(split)/\(i).png", n = ds.height * ds.width, base = i * ds.imageSize
            var bytes = [UInt8](repeating: 0, count: n * ds.channels)
            for p in 0..<n {
                for c in 0..<ds.channels {
                    bytes[p * ds.channels + c] = UInt8((min(1, max(0, ds.images[base + c * n + p])) * 255).rounded())
                }
            }
            try ImageEncoder.writePNG("\(dir)/\(rel)", pixels: bytes, width: ds.width, height: ds.height, gray: ds.channels == 1)
            return rel
        }
        var paths: [Int: String] = [:]
        for i in Set(trainVal) { paths[i] = try png(source.train, i, "train") }
        let test = try (0..<source.test.count).map { "\(try png(source.test, $0, "test")) \(source.test.labels[$0])" }
        func list(_ idx: [Int]) -> String { idx.map { "\(paths[$0]!) \(source.train.labels[$0])\n" }.joined() }
        for (name, text) in [("train800.txt", list(train)), ("val200.txt", list(val)), ("train800val200.txt", list(trainVal)),
                             ("test.txt", test.map { $0 + "\n" }.joined())] {
            try SafeOutput.write(to: "\(dir)/\(name)") { try $0(text) }
        }
        return (train.count, val.count, test.count)
    }
}
