import Foundation
import Testing
@testable import SPTFormats

/// The image cache is verified by a checksum of its contents: a damaged file — even one of the
/// right size, which the old size check accepted — is never used.
@Suite(.serialized) struct ImageCacheTests {
    @Test func aDamagedCacheFileOfTheRightSizeIsNotUsed() throws {
        let dir = NSTemporaryDirectory() + "spt-cache-\(UInt32.random(in: 0..<UInt32.max))"
        setenv("SPT_IMAGE_CACHE", dir, 1)
        defer { unsetenv("SPT_IMAGE_CACHE"); try? FileManager.default.removeItem(atPath: dir) }
        let planes: [[Float]] = [(0..<12).map { Float($0) / 255 }, (0..<12).map { Float(20 + $0) / 255 }]
        ImageCache.store("k", planes: planes, allGray: false)
        let back = try #require(ImageCache.load("k", count: 2, size: 2))
        #expect(back.planes == planes && !back.allGray)
        // One byte changed, same size: refused.
        let path = dir + "/k.u8"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[5] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(ImageCache.load("k", count: 2, size: 2) == nil)
        // A file of the old layout (no checksum) is refused too.
        try Data(bytes.dropLast(8)).write(to: URL(fileURLWithPath: path))
        #expect(ImageCache.load("k", count: 2, size: 2) == nil)
    }
}
