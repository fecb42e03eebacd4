import Foundation

/// How an image of any size becomes the model's square input: timm's eval transform (`crop`:
/// shorter side to size / crop_pct, centre crop), or VTAB's plain resize (`squash`). Both resample
/// 8-bit RGB with Pillow's filters; the result is in [0, 1], [C, size, size].
public struct ImagePreprocessing: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable, CaseIterable { case crop, squash }
    public var size: Int
    public var mode: Mode
    public var cropPct: Double
    public var interpolation: Resample.Filter

    public init(size: Int, mode: Mode = .crop, cropPct: Double = 0.875, interpolation: Resample.Filter = .bicubic) {
        self.size = size; self.mode = mode; self.cropPct = cropPct; self.interpolation = interpolation
    }

    /// One line for `spt info` and run headers.
    public var summary: String {
        switch mode {
        case .crop: "resize shorter side to \(scaleSize) (\(interpolation.rawValue)), centre crop \(size)²"
        case .squash: "resize to \(size)² (\(interpolation.rawValue)), aspect not kept"
        }
    }

    /// timm: floor(size / crop_pct).
    var scaleSize: Int { Int((Double(size) / cropPct).rounded(.down)) }

    /// The image as `channels` planes of size² values in [0, 1]; gray when `channels` is 1
    /// (the mean of R, G and B).
    /// `path` names the image in errors. The resized image is checked against the decoder's pixel
    /// limit before it is allocated: a 1×20000 strip resized by its short side would take 15.7 GB.
    public func apply(_ img: RGBImage, channels: Int, path: String = "image") throws -> [Float] {
        if mode == .crop {
            let (w, h) = cropResize(img)
            guard Checked.product([w, h, 3], limit: ImageDecoder.maxImageBytes) != nil else {
                throw EngineError.data(file: path, message: "\(img.width)×\(img.height) resized by its shorter side to \(w)×\(h) pixels, more than the \(ImageDecoder.maxImageBytes / 3 / 1_000_000)-megapixel limit")
            }
        }
        let src = img.pixels.map(Float.init)
        var out: [Float], ow: Int, oh: Int
        switch mode {
        case .squash:
            (ow, oh) = (size, size)
            out = Resample.resize(src, height: img.height, width: img.width, channels: 3, toHeight: size, toWidth: size,
                                  filter: interpolation, bytes: true)
        case .crop:
            (ow, oh) = cropResize(img)
            out = (ow, oh) == (img.width, img.height) ? src
                : Resample.resize(src, height: img.height, width: img.width, channels: 3, toHeight: oh, toWidth: ow,
                                  filter: interpolation, bytes: true)
        }
        // torchvision's CenterCrop: offsets rounded half to even, as Python's round().
        let top = (Double(oh - size) / 2).rounded(.toNearestOrEven), left = (Double(ow - size) / 2).rounded(.toNearestOrEven)
        let y0 = Int(top), x0 = Int(left)
        var planes = [Float](repeating: 0, count: channels * size * size)
        for y in 0..<size {
            for x in 0..<size {
                let sy = y + y0, sx = x + x0
                guard sy >= 0, sy < oh, sx >= 0, sx < ow else { continue }  // padding when the crop exceeds the image
                let p = (sy * ow + sx) * 3
                if channels == 1 {
                    planes[y * size + x] = (out[p] + out[p + 1] + out[p + 2]) / (3 * 255)
                } else {
                    for c in 0..<3 { planes[c * size * size + y * size + x] = out[p + c] / 255 }
                }
            }
        }
        return planes
    }

    /// torchvision's Resize(int): the shorter side to scaleSize, the longer truncated.
    func cropResize(_ img: RGBImage) -> (width: Int, height: Int) {
        let s = Double(scaleSize)
        // In torchvision's order (size · long / short), clamped only to stay an Int for the check.
        let other = min(Double(Int.max / 4), s * Double(max(img.width, img.height)) / Double(min(img.width, img.height)))
        return img.width <= img.height ? (scaleSize, Int(other)) : (Int(other), scaleSize)
    }
}
