import CPng
import Foundation
import SPTFiles

/// Writes 8-bit PNG files with libpng's simplified API.
public enum ImageEncoder {
    /// `pixels`: row-major, one byte per pixel (gray) or three (RGB).
    public static func writePNG(_ path: String, pixels: [UInt8], width: Int, height: Int, gray: Bool) throws {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(width); img.height = UInt32(height)
        img.format = gray ? 0 : 2  // PNG_FORMAT_GRAY, PNG_FORMAT_RGB (composed macros Swift does not import)
        // Encoded in memory (a first call sizes it), then written through the output rule.
        func fail() -> EngineError {
            let msg = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            png_image_free(&img)
            return EngineError.data(file: path, message: "cannot write PNG: \(msg)")
        }
        var size = 0
        guard pixels.withUnsafeBytes({ png_image_write_to_memory(&img, nil, &size, 0, $0.baseAddress, 0, nil) }) != 0 else { throw fail() }
        var encoded = [UInt8](repeating: 0, count: size)
        guard encoded.withUnsafeMutableBytes({ out in pixels.withUnsafeBytes { png_image_write_to_memory(&img, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) } }) != 0
        else { throw fail() }
        try SafeOutput.writeBytes(to: path) { try $0(Array(encoded.prefix(size))) }
    }
}
