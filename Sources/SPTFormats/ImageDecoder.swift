import CJpeg
import CPngDecode
import Foundation

/// An 8-bit RGB image, row-major, three bytes per pixel.
public struct RGBImage: Sendable {
    public var pixels: [UInt8]
    public var width: Int
    public var height: Int
    /// Whether the file stored one channel (its RGB is that channel repeated).
    public var gray: Bool
    public init(pixels: [UInt8], width: Int, height: Int, gray: Bool) {
        self.pixels = pixels; self.width = width; self.height = height; self.gray = gray
    }
}

/// PNG (every colour type and bit depth, converted exactly as Pillow's `convert("RGB")`: see
/// CPngDecode.h) and JPEG (libjpeg-turbo: baseline, progressive, gray, CMYK), told apart by their
/// signatures, not their names. Colour conversions follow Pillow's, which timm's transforms use.
public enum ImageDecoder {
    /// Decoded bytes one image may take (RGB): 89 megapixels, beyond any photograph in use.
    public static let maxImageBytes = 1 << 28

    public static func decode(_ path: String) throws -> RGBImage {
        try decode(data: Checked.contents(path), path: path)
    }

    /// The same from a file's bytes; `path` names them in errors. `maxBytes` lowers the limit
    /// (the fuzz targets, which must not spend their time on legal giant images).
    public static func decode(data: Data, path: String, maxBytes: Int = maxImageBytes) throws -> RGBImage {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try png(data, path: path, maxBytes: maxBytes) }
        if data.starts(with: [0xFF, 0xD8]) { return try jpeg(data, path: path, maxBytes: maxBytes) }
        let what = data.isEmpty ? "empty file" : "neither a PNG nor a JPEG (first bytes \(data.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")))"
        throw EngineError.data(file: path, message: what)
    }

    static func png(_ data: Data, path: String, maxBytes: Int) throws -> RGBImage {
        var out: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, gray: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBytes { b in
            spt_png_decode(b.bindMemory(to: UInt8.self).baseAddress, b.count, maxBytes, &out, &w, &h, &gray, &message, message.count)
        }
        guard rc == 0, let out else { throw EngineError.data(file: path, message: rc == -2 ? text(message) : "not a readable PNG: \(text(message))") }
        defer { free(out) }
        return RGBImage(pixels: Array(UnsafeBufferPointer(start: out, count: Int(w) * Int(h) * 3)), width: Int(w), height: Int(h), gray: gray != 0)
    }

    /// A C decoder's NUL-terminated message.
    static func text(_ message: [CChar]) -> String { String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

    static func jpeg(_ data: Data, path: String, maxBytes: Int) throws -> RGBImage {
        var out: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0, comps: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = data.withUnsafeBytes { b in
            spt_jpeg_decode(b.bindMemory(to: UInt8.self).baseAddress, b.count, maxBytes / 3 * 4, &out, &w, &h, &comps, &message, message.count)
        }
        guard rc == 0, let out else {
            throw EngineError.data(file: path, message: "not a readable JPEG: \(text(message))")
        }
        defer { free(out) }
        let n = Int(w) * Int(h), c = Int(comps)
        guard Checked.product([n, 3], limit: maxBytes) != nil else {
            throw EngineError.data(file: path, message: "\(w)×\(h) pixels, more than the \(maxBytes / 3 / 1_000_000)-megapixel limit")
        }
        var rgb = [UInt8](repeating: 0, count: n * 3)
        switch c {
        case 1: for i in 0..<n { rgb[3 * i] = out[i]; rgb[3 * i + 1] = out[i]; rgb[3 * i + 2] = out[i] }
        case 3: rgb.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: out, count: n * 3) }
        case 4:
            // Stored inverted (Adobe's convention, which Pillow assumes); then Pillow's cmyk2rgb.
            func muldiv255(_ a: Int, _ b: Int) -> Int { let t = a * b + 128; return ((t >> 8) + t) >> 8 }
            for i in 0..<n {
                let k = 255 - Int(out[4 * i + 3]), nk = 255 - k
                for j in 0..<3 { rgb[3 * i + j] = UInt8(clamping: nk - muldiv255(255 - Int(out[4 * i + j]), nk)) }
            }
        default: throw EngineError.data(file: path, message: "JPEG with \(c) components")
        }
        return RGBImage(pixels: rgb, width: Int(w), height: Int(h), gray: c == 1)
    }
}
