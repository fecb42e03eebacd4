import CPng
import Foundation

/// An image folder `root/{train,test}/<class>/*.png`, read with libpng's simplified API (gray,
/// gray+alpha, RGB, RGBA and palette images all convert). Classes are the sorted folder names of
/// train/. The data set is gray when every image is, RGB otherwise; images whose size differs
/// from the first are resampled to it (bilinear).
public enum ImageFolderReader {
    /// Decoded bytes one image may take (RGB): 89 megapixels, beyond any photograph in use.
    public static let maxImageBytes = 1 << 28

    public static func isImageFolder(_ dir: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir + "/train", isDirectory: &isDir) && isDir.boolValue
    }

    public static func load(directory d: String, name: String) throws -> DataSplits {
        let fm = FileManager.default
        let classes = try fm.contentsOfDirectory(atPath: d + "/train").filter { c in
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: "\(d)/train/\(c)", isDirectory: &isDir) && isDir.boolValue
        }.sorted()
        guard !classes.isEmpty else { throw EngineError.data(file: d + "/train", message: "no class folders") }
        func split(_ s: String) throws -> [(path: String, label: Int)] {
            var out: [(String, Int)] = []
            for (k, c) in classes.enumerated() {
                let dir = "\(d)/\(s)/\(c)"
                guard let files = try? fm.contentsOfDirectory(atPath: dir) else { continue }
                out += files.filter { $0.lowercased().hasSuffix(".png") }.sorted().map { ("\(dir)/\($0)", k) }
            }
            guard !out.isEmpty else { throw EngineError.data(file: "\(d)/\(s)", message: "no .png images in class folders") }
            return out
        }
        let trainFiles = try split("train"), testFiles = try split("test")
        var decoded: [(pixels: [UInt8], w: Int, h: Int, gray: Bool)] = []
        for f in trainFiles + testFiles { decoded.append(try decode(f.path)) }
        let W = decoded[0].w, H = decoded[0].h, gray = decoded.allSatisfy(\.gray), C = gray ? 1 : 3
        func dataset(_ range: Range<Int>, _ files: [(path: String, label: Int)]) -> Dataset {
            var images = [Float]()
            images.reserveCapacity(range.count * C * H * W)
            for i in range {
                let img = decoded[i]
                for c in 0..<C {
                    for y in 0..<H {
                        for x in 0..<W {
                            // nearest source pixel by bilinear weights at the first image's size
                            let fy = (Double(y) + 0.5) * Double(img.h) / Double(H) - 0.5, fx = (Double(x) + 0.5) * Double(img.w) / Double(W) - 0.5
                            let y0 = max(0, min(img.h - 1, Int(fy.rounded(.down)))), x0 = max(0, min(img.w - 1, Int(fx.rounded(.down))))
                            let y1 = min(img.h - 1, y0 + 1), x1 = min(img.w - 1, x0 + 1)
                            let ty = max(0, fy - Double(y0)), tx = max(0, fx - Double(x0))
                            func px(_ yy: Int, _ xx: Int) -> Double { Double(img.pixels[(yy * img.w + xx) * 3 + c]) }
                            let v = (px(y0, x0) * (1 - tx) + px(y0, x1) * tx) * (1 - ty) + (px(y1, x0) * (1 - tx) + px(y1, x1) * tx) * ty
                            images.append(Float(v / 255))
                        }
                    }
                }
            }
            return Dataset(name: name, images: images, labels: files.map { Int32($0.label) }, channels: C, height: H, width: W,
                           classes: classes.count, classNames: classes)
        }
        return DataSplits(train: dataset(0..<trainFiles.count, trainFiles),
                          test: dataset(trainFiles.count..<(trainFiles.count + testFiles.count), testFiles))
    }

    /// Decodes a PNG to 8-bit RGB (alpha composited on black) and says whether it is gray.
    static func decode(_ path: String) throws -> (pixels: [UInt8], w: Int, h: Int, gray: Bool) {
        try decode(data: Checked.contents(path), path: path)
    }

    /// The same from a file's bytes; `path` names them in errors.
    public static func decode(data: Data, path: String) throws -> (pixels: [UInt8], w: Int, h: Int, gray: Bool) {
        // libpng reads from this memory until the image is finished: one buffer, alive throughout.
        try [UInt8](data).withUnsafeBytes { bytes in
            var img = png_image()
            img.version = UInt32(PNG_IMAGE_VERSION)
            func fail(_ what: String) -> EngineError {
                let msg = withUnsafeBytes(of: img.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                png_image_free(&img)
                return EngineError.data(file: path, message: "\(what): \(msg)")
            }
            guard png_image_begin_read_from_memory(&img, bytes.baseAddress, bytes.count) != 0 else { throw fail("not a readable PNG") }
            let srcGray = img.format & UInt32(PNG_FORMAT_FLAG_COLOR) == 0
            img.format = UInt32(PNG_FORMAT_RGB)
            let w = Int(img.width), h = Int(img.height)
            guard Checked.product([w, h, 3], limit: maxImageBytes) != nil else {
                png_image_free(&img)
                throw EngineError.data(file: path, message: "header claims \(w)×\(h) pixels, more than the \(maxImageBytes / 3 / 1_000_000)-megapixel limit")
            }
            var pixels = [UInt8](repeating: 0, count: w * h * 3)
            var black = png_color(red: 0, green: 0, blue: 0)
            let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&img, &black, $0.baseAddress, 0, nil) }
            guard ok != 0 else { throw fail("corrupt PNG") }
            return (pixels, w, h, srcGray)
        }
    }
}
