import Foundation
import SPTFiles

/// Image data sets as users have them, PNG or JPEG files in one of three layouts:
/// - class folders: `root/{train,test}/<class>/*` (classes: the sorted folder names of train/);
/// - VTAB-1k as distributed with the VPT/NOAH code bases: `train800.txt`, `val200.txt`,
///   `train800val200.txt` and `test.txt` beside the images, lines of `path label`;
/// - VPT's FGVC splits: `train.json`, `val.json`, `test.json` mapping image paths (relative to
///   the root or to `root/images`) to class ids, numbered in sorted order.
/// Each image is resized on its own by `ImagePreprocessing`, once: `ImageCache` keeps the result. Published splits are kept as given:
/// the tune protocol trains on train800 (train.json) and evaluates on val200 (val.json).
public enum ImageFolderReader {
    public enum Layout: String, Sendable { case classFolders = "class folders", vtab1k = "VTAB-1k lists", fgvc = "FGVC JSON" }

    public static func layout(_ dir: String) -> Layout? {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir + "/train800val200.txt") { return .vtab1k }
        if fm.fileExists(atPath: dir + "/train.json") { return .fgvc }
        if fm.fileExists(atPath: dir + "/train", isDirectory: &isDir), isDir.boolValue { return .classFolders }
        return nil
    }

    public typealias Item = (path: String, label: Int)

    /// More classes than any benchmark has (ImageNet-21k: 21,843): a label beyond is an error in the list.
    public static let maxClasses = 100_000

    public static func load(directory d: String, name: String, preprocessing: ImagePreprocessing) throws -> DataSplits {
        guard let layout = layout(d) else { throw EngineError.data(file: d, message: "not an image folder") }
        var classNames: [String]
        var train: [Item], test: [Item], tune: (train: [Int], val: [Int])?
        switch layout {
        case .classFolders:
            (classNames, train, test) = try classFolders(d)
        case .vtab1k:
            let all = try list(d, "train800val200.txt"), t800 = try list(d, "train800.txt"), v200 = try list(d, "val200.txt")
            test = try list(d, "test.txt")
            train = all
            let index = Dictionary(all.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
            func indices(_ items: [Item], _ file: String) throws -> [Int] {
                try items.map { it in
                    guard let i = index[it.path] else { throw EngineError.data(file: "\(d)/\(file)", message: "\(it.path) is not in train800val200.txt") }
                    return i
                }
            }
            tune = (try indices(t800, "train800.txt"), try indices(v200, "val200.txt"))
            // Classes are the training labels': a test label beyond them is refused before any
            // image is decoded (one stray label would otherwise size the head).
            let k = all.map(\.label).max()! + 1
            guard k <= maxClasses else {
                throw EngineError.data(file: "\(d)/train800val200.txt", message: "label \(k - 1): more than \(maxClasses) classes")
            }
            if let bad = test.first(where: { $0.label >= k }) {
                throw EngineError.data(file: "\(d)/test.txt", message: "\(bad.path): label \(bad.label) is not a training class (train800val200.txt has labels 0…\(k - 1))")
            }
            classNames = (0..<k).map(String.init)
        case .fgvc:
            let tr = try json(d, "train.json"), va = try json(d, "val.json"), te = try json(d, "test.json")
            let ids = Set(tr.map(\.label)).sorted(), cont = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            func relabel(_ items: [(path: String, label: Int)], _ file: String) throws -> [Item] {
                try items.map { it in
                    guard let k = cont[it.label] else { throw EngineError.data(file: "\(d)/\(file)", message: "\(it.path): class \(it.label) has no image in train.json") }
                    return (it.path, k)
                }
            }
            train = try relabel(tr, "train.json") + relabel(va, "val.json")
            test = try relabel(te, "test.json")
            tune = (Array(0..<tr.count), Array(tr.count..<(tr.count + va.count)))
            classNames = ids.map(String.init)
        }
        let all = train + test, key = ImageCache.key(all.map(\.path), preprocessing)
        // What decoding will hold, checked before the first image is decoded (at --image-size 4096
        // a folder of 1000 images is 200 GB; --dry-run decoded them all before its memory check).
        let S = preprocessing.size
        if let need = Checked.product([all.count, 3, S, S, 4]), let free = availableMemory(), need > free {
            throw EngineError.data(file: d, message: "\(all.count) images at \(S)×\(S) need \(need >> 20) MB once decoded, \(free >> 20) MB are available (use a smaller --image-size)")
        }
        let images = try ImageCache.load(key, count: all.count, size: preprocessing.size) ?? {
            let decoded = try decodeAll(all, preprocessing: preprocessing)
            ImageCache.store(key, planes: decoded.planes, allGray: decoded.allGray)
            return decoded
        }()
        let C = images.allGray ? 1 : 3
        func dataset(_ items: [Item], _ planes: ArraySlice<[Float]>) -> Dataset {
            Dataset(name: name, images: planes.flatMap { C == 1 ? Array($0.prefix(S * S)) : $0 }, labels: items.map { Int32($0.label) },
                    channels: C, height: S, width: S, classes: classNames.count, classNames: classNames)
        }
        var splits = DataSplits(train: dataset(train, images.planes[0..<train.count]), test: dataset(test, images.planes[train.count...]))
        splits.given = tune
        return splits
    }

    /// Decodes and preprocesses every image, on all cores; the first failure (in file order) is thrown.
    private static func decodeAll(_ items: [Item], preprocessing: ImagePreprocessing) throws -> (planes: [[Float]], allGray: Bool) {
        final class Results: @unchecked Sendable {
            var slots: [Result<([Float], Bool), Error>?]
            let lock = NSLock()
            init(_ n: Int) { slots = Array(repeating: nil, count: n) }
        }
        let results = Results(items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            let r = Result { () throws -> ([Float], Bool) in
                let img = try ImageDecoder.decode(items[i].path)
                return (try preprocessing.apply(img, channels: 3, path: items[i].path), img.gray)
            }
            results.lock.lock(); results.slots[i] = r; results.lock.unlock()
        }
        var planes: [[Float]] = [], gray = true
        for r in results.slots { let (p, g) = try r!.get(); planes.append(p); gray = gray && g }
        return (planes, gray)
    }

    private static func classFolders(_ d: String) throws -> ([String], [Item], [Item]) {
        let fm = FileManager.default
        let classes = try fm.contentsOfDirectory(atPath: d + "/train").filter { c in
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: "\(d)/train/\(c)", isDirectory: &isDir) && isDir.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw EngineError.data(file: d + "/train", message: "no class folders") }
        let extensions: Set<String> = ["png", "jpg", "jpeg"]
        // Every test class must be a training class (never dropped silently).
        for c in (try? fm.contentsOfDirectory(atPath: d + "/test")) ?? [] where !classes.contains(c) {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: "\(d)/test/\(c)", isDirectory: &isDir), isDir.boolValue {
                throw EngineError.data(file: "\(d)/test/\(c)", message: "a test class with no folder in train/")
            }
        }
        func split(_ s: String) throws -> [Item] {
            var out: [Item] = []
            for (k, c) in classes.enumerated() {
                let dir = "\(d)/\(s)/\(c)"
                guard let files = try? fm.contentsOfDirectory(atPath: dir) else { continue }
                let images = files.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
                // A training class without images would be a class the head can never learn.
                if s == "train" && images.isEmpty { throw EngineError.data(file: dir, message: "a training class folder with no .png or .jpg image") }
                out += images.map { ("\(dir)/\($0)", k) }
            }
            guard !out.isEmpty else { throw EngineError.data(file: "\(d)/\(s)", message: "no .png or .jpg images in class folders") }
            return out
        }
        return (classes, try split("train"), try split("test"))
    }

    /// A VTAB-1k list: one `path label` per line, paths relative to the root.
    private static func list(_ d: String, _ file: String) throws -> [Item] {
        try list(Checked.contents("\(d)/\(file)"), root: d, path: "\(d)/\(file)")
    }

    /// The same from the list's bytes (what the fuzz target calls); `path` names them in errors.
    public static func list(_ data: Data, root d: String, path: String) throws -> [Item] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw EngineError.data(file: path, message: "not UTF-8 text")
        }
        var out: [Item] = []
        // Lines end in LF or CR LF (one Character in Swift, which a split on "\n" would not see).
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            guard fields.count == 2, let label = Int(fields[1]), label >= 0, label < 1_000_000 else {
                throw EngineError.data(file: path, message: "line \(n + 1): expected `path label` with a label from 0, got \"\(cut(String(line)))\"")
            }
            out.append((try inside(d, String(fields[0]), path, "line \(n + 1)"), label))
        }
        guard !out.isEmpty else { throw EngineError.data(file: path, message: "no images listed") }
        return out
    }

    /// An FGVC split file: a JSON object from image path to class id.
    private static func json(_ d: String, _ file: String) throws -> [Item] {
        try json(Checked.contents("\(d)/\(file)"), root: d, path: "\(d)/\(file)")
    }

    /// The same from the file's bytes (what the fuzz target calls); `path` names them in errors.
    public static func json(_ data: Data, root d: String, path: String) throws -> [Item] {
        if let where_ = JSONValue.syntaxProblem(data) { throw EngineError.data(file: path, message: "not JSON: \(where_)") }
        guard case .object(let obj) = try [UInt8](data).withUnsafeBytes({ try JSONValue.parse($0) }) else {
            throw EngineError.data(file: path, message: "not a JSON object mapping image paths to class ids")
        }
        guard !obj.isEmpty else { throw EngineError.data(file: path, message: "no images listed") }
        let images = FileManager.default.fileExists(atPath: d + "/images") ? d + "/images" : d
        return try obj.keys.sorted().map { key in
            guard let id = obj[key]?.int, id >= 0, id < maxClasses else {
                throw EngineError.data(file: path, message: "\(cut(key)): class id \(cut(obj[key]!.text)) is not an integer in 0…\(maxClasses - 1)")
            }
            return (try inside(images, key, path, cut(key)), id)
        }
    }

    static func cut(_ s: String) -> String { printable(s) }

    /// `root/rel`, refusing paths that leave the root (`..`, absolute paths).
    private static func inside(_ root: String, _ rel: String, _ file: String, _ at: String) throws -> String {
        guard !rel.hasPrefix("/"), !rel.split(separator: "/").contains("..") else {
            throw EngineError.data(file: file, message: "\(at): \(cut(rel)) leaves the data folder")
        }
        return "\(root)/\(rel)"
    }
}
