import CPng
import Foundation
import Testing
import SPTEngine

@Suite struct ImageFormatTests {
    func dir() -> String {
        let d = NSTemporaryDirectory() + "spt-img-\(UInt32.random(in: 0..<UInt32.max))"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    // libpng's PNG_FORMAT_* are composed macros Swift does not import: flags alpha 1, colour 2, colormap 8.
    let gray: UInt32 = 0, rgb: UInt32 = 2, rgba: UInt32 = 3, rgbColormap: UInt32 = 0x0A

    /// Writes a PNG with libpng's simplified API in the given format.
    func writePNG(_ path: String, w: Int, h: Int, format: UInt32, pixels: [UInt8], colormap: [UInt8]? = nil) {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(w); img.height = UInt32(h); img.format = format
        if let colormap { img.colormap_entries = UInt32(colormap.count / 3) }
        let ok = pixels.withUnsafeBytes { p in
            colormap.map { cm in cm.withUnsafeBytes { png_image_write_to_file(&img, path, 0, p.baseAddress, 0, $0.baseAddress) } }
                ?? png_image_write_to_file(&img, path, 0, p.baseAddress, 0, nil)
        }
        #expect(ok != 0, "could not write \(path)")
    }

    @Test func imageFolderReadsGrayRGBRGBAAndPalette() throws {
        let d = dir()
        for (split, cls) in [("train", "cat"), ("train", "dog"), ("test", "cat"), ("test", "dog")] {
            try FileManager.default.createDirectory(atPath: "\(d)/\(split)/\(cls)", withIntermediateDirectories: true)
        }
        writePNG("\(d)/train/cat/a.png", w: 2, h: 2, format: gray, pixels: [0, 255, 128, 64])
        writePNG("\(d)/train/dog/b.png", w: 2, h: 2, format: rgb, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        writePNG("\(d)/test/cat/c.png", w: 2, h: 2, format: rgba, pixels: [255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 255, 9, 9, 9, 255])
        writePNG("\(d)/test/dog/d.png", w: 2, h: 2, format: rgbColormap, pixels: [0, 1, 1, 0], colormap: [0, 0, 0, 200, 100, 50])
        let s = try TaskCatalog.load(d, imageSize: 2)
        #expect(s.train.classNames == ["cat", "dog"] && s.train.labels == [0, 1] && s.test.labels == [0, 1])
        #expect(s.train.channels == 3 && s.train.height == 2)
        // gray replicated: pixel (0, 1) of the gray image is 255 in every channel
        #expect(s.train.images[1] == 1 && s.train.images[4 + 1] == 1 && s.train.images[8 + 1] == 1)
        // RGB: first pixel red
        #expect(s.train.images[12] == 1 && s.train.images[16] == 0)
        // RGBA: alpha dropped, as Pillow's convert("RGB") does — the transparent white pixel stays white
        #expect(s.test.images[1] == 1 && s.test.images[0] == 1)
        // palette: pixel 1 is colour 1 = (200, 100, 50)
        #expect(abs(s.test.images[12 + 1] - 200 / 255) < 1e-6 && abs(s.test.images[12 + 4 + 1] - 100 / 255) < 1e-6)
    }

    @Test func corruptPNGIsNamed() throws {
        let d = dir()
        try FileManager.default.createDirectory(atPath: "\(d)/train/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(d)/test/a", withIntermediateDirectories: true)
        try Data("\u{89}PNG not really".utf8).write(to: URL(fileURLWithPath: "\(d)/train/a/x.png"))
        writePNG("\(d)/test/a/y.png", w: 1, h: 1, format: gray, pixels: [1])
        #expect { try TaskCatalog.load(d, imageSize: 2) } throws: { "\($0)".contains("\(d)/train/a/x.png") && "\($0)".contains("PNG") }
    }

    @Test func cifarBatchesRoundTripAndFailClearly() throws {
        let d = dir()
        func record(_ label: UInt8, _ v: UInt8, labelBytes: Int) -> [UInt8] { Array(repeating: label, count: labelBytes) + Array(repeating: v, count: 3072) }
        for i in 1...5 { try Data(record(UInt8(i), 51, labelBytes: 1) + record(0, 0, labelBytes: 1)).write(to: URL(fileURLWithPath: "\(d)/data_batch_\(i).bin")) }
        try Data(record(9, 255, labelBytes: 1)).write(to: URL(fileURLWithPath: "\(d)/test_batch.bin"))
        let s = try TaskCatalog.load(d, imageSize: 32)
        #expect(s.train.count == 10 && s.train.labels.prefix(2) == [1, 0] && s.train.channels == 3 && s.train.classes == 10)
        #expect(s.train.images[0] == 0.2 && s.test.images[3071] == 1)
        try Data(record(1, 0, labelBytes: 1).dropLast(5)).write(to: URL(fileURLWithPath: "\(d)/test_batch.bin"))
        #expect { try TaskCatalog.load(d, imageSize: 32) } throws: { "\($0)".contains("test_batch.bin") && "\($0)".contains("truncated") }
        try Data(record(12, 0, labelBytes: 1)).write(to: URL(fileURLWithPath: "\(d)/test_batch.bin"))
        #expect { try TaskCatalog.load(d, imageSize: 32) } throws: { "\($0)".contains("label 12 at offset 0 is out of range 0..<10") }
        // CIFAR-100: two label bytes, the fine label second
        let c = dir()
        try Data(record(3, 7, labelBytes: 2)).write(to: URL(fileURLWithPath: "\(c)/train.bin"))
        try Data(record(99, 7, labelBytes: 2)).write(to: URL(fileURLWithPath: "\(c)/test.bin"))
        let s100 = try TaskCatalog.load(c, imageSize: 32)
        #expect(s100.train.classes == 100 && s100.test.labels == [99])
    }
}
