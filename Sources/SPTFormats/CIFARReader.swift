import Foundation

/// CIFAR-10 / CIFAR-100 binary batches: records of label byte(s) then 3072 bytes (R, G, B planes
/// of 32×32). A directory with data_batch_1…5.bin and test_batch.bin is CIFAR-10; one with
/// train.bin and test.bin is CIFAR-100 (fine labels).
public enum CIFARReader {
    public static func isCIFAR(_ dir: String) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: dir + "/data_batch_1.bin") || (fm.fileExists(atPath: dir + "/train.bin") && fm.fileExists(atPath: dir + "/test.bin"))
    }

    public static func load(directory d: String, name: String) throws -> DataSplits {
        if FileManager.default.fileExists(atPath: d + "/data_batch_1.bin") {
            let train = (1...5).map { "\(d)/data_batch_\($0).bin" }.filter { FileManager.default.fileExists(atPath: $0) }
            return DataSplits(train: try read(train, labelBytes: 1, classes: 10, name: name),
                              test: try read(["\(d)/test_batch.bin"], labelBytes: 1, classes: 10, name: name))
        }
        return DataSplits(train: try read(["\(d)/train.bin"], labelBytes: 2, classes: 100, name: name),
                          test: try read(["\(d)/test.bin"], labelBytes: 2, classes: 100, name: name))
    }

    static func read(_ files: [String], labelBytes: Int, classes: Int, name: String) throws -> Dataset {
        var images = [Float](), labels = [Int32]()
        for f in files { try parse(Checked.contents(f), file: f, labelBytes: labelBytes, classes: classes, images: &images, labels: &labels) }
        return Dataset(name: name, images: images, labels: labels, channels: 3, height: 32, width: 32, classes: classes)
    }

    /// Appends one batch file's records; `file` names it in errors.
    public static func parse(_ data: Data, file f: String, labelBytes: Int, classes: Int, images: inout [Float], labels: inout [Int32]) throws {
        let record = labelBytes + 3072
        guard data.count % record == 0 else {
            throw EngineError.data(file: f, message: "truncated: \(data.count) bytes is not a whole number of \(record)-byte records; record \(data.count / record) is incomplete at offset \(data.count / record * record)")
        }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            for r in 0..<(data.count / record) {
                let off = r * record
                let label = Int(b[off + labelBytes - 1])  // CIFAR-100: the fine label is the second byte
                guard label < classes else {
                    throw EngineError.data(file: f, message: "label \(label) at offset \(off + labelBytes - 1) is out of range 0..<\(classes)")
                }
                labels.append(Int32(label))
                for i in 0..<3072 { images.append(Float(b[off + labelBytes + i]) / 255) }
            }
        }
    }
}
