import Foundation
import SPTFiles

/// Decoded, preprocessed images of a folder, kept as bytes between runs (`SPT_IMAGE_CACHE`, default
/// `~/.cache/spt/images`) so that a second run, or the dashboard's restart, does not decode the
/// folder again. The key covers every file's path, size and modification time and the
/// preprocessing and the decoder's version, so a changed image, setting or decoder misses.
/// Preprocessed values are exact bytes (n/255), so the cache is lossless. The file ends with a
/// checksum of its contents: a damaged cache file (of the right size or not) is reported and
/// decoded again, never used. Writing is best effort (the output rule's temporary file, fsync
/// and rename): a cache that cannot be written costs only time.
enum ImageCache {
    static var directory: String {
        ProcessInfo.processInfo.environment["SPT_IMAGE_CACHE"] ?? (NSHomeDirectory() + "/.cache/spt/images")
    }

    static func key(_ paths: [String], _ p: ImagePreprocessing) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        // v2: PNGs decoded as Pillow converts them (16-bit, alpha, tRNS, gamma).
        mix("v2 \(p.size) \(p.mode.rawValue) \(p.cropPct) \(p.interpolation.rawValue)")
        for path in paths {
            var st = stat()
            let ok = stat(path, &st) == 0
            mix("\(path)\0\(ok ? Int(st.st_size) : -1)\0\(ok ? st.st_mtim.tv_sec : 0).\(ok ? st.st_mtim.tv_nsec : 0)\n")
        }
        return String(h, radix: 16)
    }

    /// FNV-1a over the bytes.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Per image: size² × 3 bytes, then one byte per image saying whether it was gray, then the
    /// checksum of all that (8 bytes, little-endian). Nil when absent; reported when damaged.
    static func load(_ key: String, count: Int, size: Int) -> (planes: [[Float]], allGray: Bool)? {
        let plane = 3 * size * size, path = "\(directory)/\(key).u8"
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        let intact = d.count == count * (plane + 1) + 8 && d.withUnsafeBytes { raw in
            checksum(UnsafeRawBufferPointer(rebasing: raw[..<(raw.count - 8)])) == raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self).littleEndian
        }
        guard intact else {
            FileHandle.standardError.write(Data("\(path): damaged image cache (size or checksum); decoding the images again\n".utf8))
            return nil
        }
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
        let sum = out.withUnsafeBytes { checksum($0) }
        withUnsafeBytes(of: sum.littleEndian) { out.append(contentsOf: $0) }
        try? SafeOutput.makeDirectories(directory)
        try? SafeOutput.writeBytes(to: "\(directory)/\(key).u8") { try $0([UInt8](out)) }
    }
}
