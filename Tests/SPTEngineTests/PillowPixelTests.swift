import Foundation
import Testing
import SPTEngine

/// The pixel rule: a PNG of every colour type and bit depth (and with the chunks Pillow ignores:
/// tRNS, gAMA; interlaced; a palette index beyond its palette) decodes to the bytes Pillow's
/// `Image.open(f).convert("RGB")` gives — what timm's transform and spt_torch train on — byte for
/// byte. The expected bytes come from Pillow (tools/pixels/make_png_fixtures.py; test_pixels.py
/// re-reads them with the installed Pillow).
@Suite struct PillowPixelTests {
    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("pillow-png").path

    struct Expected: Decodable { let width: Int, height: Int, rgb: String }
    struct File: Decodable { let pillow: String, images: [String: Expected] }

    static let expected: File = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: root + "/expected.json"))
        return try! JSONDecoder().decode(File.self, from: data)
    }()

    @Test(arguments: expected.images.keys.sorted())
    func decodesAsPillowConvertsToRGB(name: String) throws {
        let want = try #require(Self.expected.images[name])
        let img = try ImageDecoder.decode(Self.root + "/\(name).png")
        #expect(img.width == want.width && img.height == want.height)
        let hex = img.pixels.map { String(format: "%02x", $0) }.joined()
        #expect(hex == want.rgb, "\(name): first difference at byte \(zip(hex, want.rgb).enumerated().first { $1.0 != $1.1 }.map { $0.offset / 2 } ?? -1)")
        #expect(img.gray == (name.hasPrefix("gray")))
    }

    /// The cases the hostile suite found: 12000/65535 in 16-bit RGB is 46 (high byte), not a
    /// gamma-converted 118; RGBA (200, 100, 50, α 45) is (200, 100, 50), not composited on black.
    @Test func sixteenBitAndAlphaAreNotConverted() throws {
        func png(_ depth: UInt8, _ type: UInt8, _ raw: [UInt8]) -> Data {
            func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
                let body = Array(kind.utf8) + data
                var crc = UInt32(0xFFFF_FFFF)
                for b in body { crc ^= UInt32(b); for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 } }
                return withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init) + body + withUnsafeBytes(of: (~crc).bigEndian, Array.init)
            }
            let ihdr = [0, 0, 0, 1, 0, 0, 0, 1, depth, type, 0, 0, 0] as [UInt8]
            return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
                        + chunk("IDAT", Array(try! zlibStored([0] + raw))) + chunk("IEND", []))
        }
        let rgb16 = try ImageDecoder.decode(data: png(16, 2, [0x2E, 0xE0, 0x01, 0x2C, 0xFF, 0xFF]), path: "rgb16.png")
        #expect(rgb16.pixels == [46, 1, 255])
        let rgba = try ImageDecoder.decode(data: png(8, 6, [200, 100, 50, 45]), path: "rgba.png")
        #expect(rgba.pixels == [200, 100, 50])
    }

    /// A zlib stream of stored (uncompressed) blocks: enough for a one-pixel IDAT.
    static func zlibStoredBytes(_ data: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let n = UInt16(data.count)
        return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + data
            + withUnsafeBytes(of: (b << 16 | a).bigEndian, Array.init)
    }
}

func zlibStored(_ data: [UInt8]) throws -> [UInt8] { PillowPixelTests.zlibStoredBytes(data) }
