import Foundation

/// Decoded, preprocessed images of a folder, kept as bytes between runs (`SPT_IMAGE_CACHE`, default
/// `~/.cache/spt/images`) so that a second run, or the dashboard's restart, does not decode the
/// folder again. The key covers every file's path, size and modification time and the
/// preprocessing, so a changed image or setting misses. Preprocessed values are exact bytes
/// (n/255), so the cache is lossless. Writing is best effort (temporary file, then rename): a
/// cache that cannot be written costs only time.
enum ImageCache {
    static var directory: String {
        ProcessInfo.processInfo.environment["SPT_IMAGE_CACHE"] ?? (NSHomeDirectory() + "/.cache/spt/images")
    }

    static func key(_ paths: [String], _ p: ImagePreprocessing) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        mix("v1 \(p.size) \(p.mode.rawValue) \(p.cropPct) \(p.interpolation.rawValue)")
        for path in paths {
            var st = stat()
            let ok = stat(path, &st) == 0
            mix("\(path)\0\(ok ? Int(st.st_size) : -1)\0\(ok ? st.st_mtim.tv_sec : 0).\(ok ? st.st_mtim.tv_nsec : 0)\n")
        }
        return String(h, radix: 16)
    }

    /// Per image: size² × 3 bytes, then one byte per image saying whether it was gray.
    static func load(_ key: String, count: Int, size: Int) -> (planes: [[Float]], allGray: Bool)? {
        let plane = 3 * size * size
        guard let d = FileManager.default.contents(atPath: "\(directory)/\(key).u8"), d.count == count * (plane + 1) else { return nil }
        return d.withUnsafeBytes { raw -> ([[Float]], Bool) in
            let b = raw.bindMemory(to: UInt8.self)
            let planes = (0..<count).map { i in (0..<plane).map { Float(b[i * plane + $0]) / 255 } }
            return (planes, (0..<count).allSatisfy { b[count * plane + $0] == 1 })
        }
    }

    static func store(_ key: String, planes: [[Float]], allGray: Bool) {
        var out = Data(capacity: planes.count * ((planes.first?.count ?? 0) + 1))
        for p in planes { out.append(contentsOf: p.map { UInt8(($0 * 255).rounded()) }) }
        out.append(contentsOf: [UInt8](repeating: allGray ? 1 : 0, count: planes.count))
        let dir = directory, tmp = "\(dir)/.\(key).\(getpid()).tmp"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: tmp, contents: out) else { return }
        if rename(tmp, "\(dir)/\(key).u8") != 0 { unlink(tmp) }
    }
}
