import CPng
import Foundation

/// Writes 8-bit PNG files with libpng's simplified API.
public enum ImageEncoder {
    /// `pixels`: row-major, one byte per pixel (gray) or three (RGB).
    public static func writePNG(_ path: String, pixels: [UInt8], width: Int, height: Int, gray: Bool) throws {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(width); img.height = UInt32(height)
        img.format = gray ? 0 : 2  // PNG_FORMAT_GRAY, PNG_FORMAT_RGB (composed macros Swift does not import)
        let ok = pixels.withUnsafeBytes { png_image_write_to_file(&img, path, 0, $0.baseAddress, 0, nil) }
        guard ok != 0 else {
            let msg = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            png_image_free(&img)
            throw EngineError.data(file: path, message: "cannot write PNG: \(msg)")
        }
    }
}
