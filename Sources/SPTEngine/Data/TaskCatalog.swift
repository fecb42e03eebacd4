import Foundation

/// Tasks `--task` accepts by name, and data directories by path.
public enum TaskCatalog {
    public struct Entry: Sendable {
        public let name: String
        public let source: String
        public let describe: String
    }

    public static let builtins: [Entry] = [
        Entry(name: "fashion-mnist", source: "Debian dataset-fashion-mnist (\(DataPaths.fashionMNIST))",
              describe: "10 classes of clothing, 28×28 gray, 60,000 train / 10,000 test"),
    ] + StructuredTasks.Kind.allCases.map {
        Entry(name: $0.rawValue, source: "generated (seeded), rendered at the backbone's resolution",
              describe: "\($0.describe); \($0.classNames.count) classes, 2,000 train / 2,000 test")
    }

    /// Loads a built-in task or a directory: CIFAR-10/100 binary batches, an image folder (class
    /// folders, VTAB-1k lists or FGVC JSON; PNG or JPEG, each image preprocessed as given, by
    /// default squashed to `imageSize`) or MNIST-layout IDX files.
    public static func load(_ nameOrPath: String, imageSize: Int, preprocessing: ImagePreprocessing? = nil) throws -> DataSplits {
        let splits = try read(nameOrPath, imageSize: imageSize,
                              preprocessing: preprocessing ?? ImagePreprocessing(size: imageSize, mode: .squash))
        try splits.check(source: nameOrPath)
        return splits
    }

    private static func read(_ nameOrPath: String, imageSize: Int, preprocessing: ImagePreprocessing) throws -> DataSplits {
        switch nameOrPath {
        case "fashion-mnist": return try BuiltinData.fashionMNIST()
        case let n where StructuredTasks.Kind(rawValue: n) != nil:
            return StructuredTasks.make(StructuredTasks.Kind(rawValue: n)!, size: imageSize)
        default:
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDir), isDir.boolValue else {
                let why = FileManager.default.fileExists(atPath: nameOrPath) ? "not a directory" : RegularFile.whyMissing(nameOrPath)
                throw EngineError.invalidArgument("task \(nameOrPath): not a built-in (\(builtins.map(\.name).joined(separator: ", "))) and \(why)")
            }
            let name = (nameOrPath as NSString).lastPathComponent
            if CIFARReader.isCIFAR(nameOrPath) { return try CIFARReader.load(directory: nameOrPath, name: name) }
            if ImageFolderReader.layout(nameOrPath) != nil {
                return try ImageFolderReader.load(directory: nameOrPath, name: name, preprocessing: preprocessing)
            }
            // Folders of images without train/: class folders at the wrong level, not a missing IDX file.
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: nameOrPath)) ?? []
            let folders = entries.filter { e in
                var d: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(nameOrPath)/\(e)", isDirectory: &d) && d.boolValue
            }
            if !folders.isEmpty, !entries.contains(where: { $0.contains("idx") && $0.contains("ubyte") }) {
                throw EngineError.data(file: nameOrPath, message: "no train/ folder, no VTAB-1k lists (train800val200.txt), no FGVC train.json and no IDX files; "
                                       + "class folders go in train/<class>/ and test/<class>/ (found \(folders.sorted().prefix(3).joined(separator: ", "))\(folders.count > 3 ? ", …" : ""))")
            }
            return try IDXReader.load(directory: nameOrPath, name: name)
        }
    }
}
