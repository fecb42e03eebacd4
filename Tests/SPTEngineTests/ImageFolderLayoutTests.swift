import Foundation
import Testing
import SPTEngine

/// Image folders as published work distributes them (VTAB-1k lists, FGVC JSON), JPEG files and
/// their failures, and per-image preprocessing.
@Suite struct ImageFolderLayoutTests {
    let formats = ImageFormatTests()
    static let images = TimmConformanceTests.root + "/embed/images"
    let jpeg = try! Data(contentsOf: URL(fileURLWithPath: images + "/a/baseline.jpg"))
    let fm = FileManager.default

    func write(_ path: String, _ text: String) throws {
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func copyJPEG(_ path: String) throws {
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try jpeg.write(to: URL(fileURLWithPath: path))
    }

    /// A VTAB-1k folder: `images/0.jpg` … and the four lists as given.
    func vtab(_ images: Int, train800: String, val200: String, trainval: String, test: String) throws -> String {
        let d = formats.dir()
        for i in 0..<images { try copyJPEG("\(d)/images/\(i).jpg") }
        for (file, text) in [("train800.txt", train800), ("val200.txt", val200), ("train800val200.txt", trainval), ("test.txt", test)] {
            try write("\(d)/\(file)", text)
        }
        return d
    }

    @Test func vtab1kListsAreUsedAsGiven() throws {
        let d = try vtab(6, train800: "images/0.jpg 0\nimages/1.jpg 1\nimages/2.jpg 2\n", val200: "images/3.jpg 1\n",
                         trainval: "images/0.jpg 0\nimages/1.jpg 1\nimages/2.jpg 2\nimages/3.jpg 1\n", test: "images/4.jpg 0\nimages/5.jpg 2\n\n")
        let s = try TaskCatalog.load(d, imageSize: 16)
        #expect(s.train.count == 4 && s.test.count == 2 && s.train.classes == 3 && s.train.height == 16)
        let tune = TaskData(source: s, protocol: .tune, seed: 7), final = TaskData(source: s, protocol: .final, seed: 7)
        #expect(tune.train.labels == [0, 1, 2] && tune.eval.labels == [1] && tune.evalSplit == "val")
        #expect(final.train.count == 4 && final.eval.labels == [0, 2] && final.evalSplit == "test")

        try write("\(d)/test.txt", "images/4.jpg 0\nimages/5.jpg two\n")
        #expect { try TaskCatalog.load(d, imageSize: 16) } throws: { "\($0)".contains("\(d)/test.txt") && "\($0)".contains("line 2") }
        try write("\(d)/test.txt", "../outside.jpg 0\n")
        #expect { try TaskCatalog.load(d, imageSize: 16) } throws: { "\($0)".contains("leaves the data folder") }
        try write("\(d)/test.txt", "images/4.jpg 0\n")
        try write("\(d)/val200.txt", "images/5.jpg 1\n")
        #expect { try TaskCatalog.load(d, imageSize: 16) } throws: { "\($0)".contains("val200.txt") && "\($0)".contains("images/5.jpg is not in train800val200.txt") }
    }

    /// Labels and classes as the README promises: a test label that is no training class is
    /// refused before decoding (one stray 999999 built a million-class head), as is a test class
    /// folder with none in train/ (it was dropped) and an empty training class folder.
    @Test func labelsAndClassesOutsideTheTrainingClassesAreRefused() throws {
        let d = try vtab(4, train800: "images/0.jpg 0\n", val200: "images/1.jpg 1\n", trainval: "images/0.jpg 0\nimages/1.jpg 1\n",
                         test: "images/2.jpg 1\nimages/3.jpg 999999\n")
        #expect { try TaskCatalog.load(d, imageSize: 16) } throws: { "\($0)".contains("test.txt") && "\($0)".contains("label 999999 is not a training class") }

        let f = formats.dir()
        try copyJPEG("\(f)/train/cat/a.jpg"); try copyJPEG("\(f)/train/dog/b.jpg")
        try copyJPEG("\(f)/test/cat/c.jpg"); try copyJPEG("\(f)/test/bird/d.jpg")
        #expect { try TaskCatalog.load(f, imageSize: 16) } throws: { "\($0)".contains("test/bird") && "\($0)".contains("no folder in train/") }
        try fm.removeItem(atPath: "\(f)/test/bird")
        try fm.createDirectory(atPath: "\(f)/train/empty", withIntermediateDirectories: true)
        #expect { try TaskCatalog.load(f, imageSize: 16) } throws: { "\($0)".contains("train/empty") && "\($0)".contains("no .png or .jpg") }
    }

    @Test func fgvcJSONSplitsMapClassIdsInSortedOrder() throws {
        let d = formats.dir()
        for n in ["b/1.jpg", "b/2.jpg", "c/3.jpg", "c/4.jpg", "b/5.jpg"] { try copyJPEG("\(d)/images/\(n)") }
        try write("\(d)/train.json", #"{"b/1.jpg": 5, "c/3.jpg": 9}"#)
        try write("\(d)/val.json", #"{"b/2.jpg": 5}"#)
        try write("\(d)/test.json", #"{"c/4.jpg": 9, "b/5.jpg": 5}"#)
        let s = try TaskCatalog.load(d, imageSize: 8)
        #expect(s.train.classNames == ["5", "9"] && s.train.labels == [0, 1, 0] && s.test.labels == [0, 1])
        let tune = TaskData(source: s, protocol: .tune)
        #expect(tune.train.labels == [0, 1] && tune.eval.labels == [0])
        try write("\(d)/test.json", #"{"c/4.jpg": 7}"#)
        #expect { try TaskCatalog.load(d, imageSize: 8) } throws: { "\($0)".contains("test.json") && "\($0)".contains("class 7 has no image in train.json") }
        try write("\(d)/test.json", #"{"c/4.jpg": 1.5}"#)
        #expect { try TaskCatalog.load(d, imageSize: 8) } throws: { "\($0)".contains("test.json") && "\($0)".contains("not an integer") }
        // Errors say where: the line and column of a syntax error; a huge key cut, quickly.
        try write("\(d)/test.json", "{\"c/4.jpg\": 9,\n \"b/5.jpg\" 5}")
        #expect { try TaskCatalog.load(d, imageSize: 8) } throws: { "\($0)".contains("test.json: not JSON: line 2, column 12 (byte 26): expected ':'") }
        try write("\(d)/test.json", "{\"" + String(repeating: "x", count: 5_000_000) + "\": -1}")
        let start = Date()
        #expect { try TaskCatalog.load(d, imageSize: 8) } throws: { "\($0)".count < 400 && "\($0)".contains("xxx…: class id -1") }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// Class folders at the top level (no train/): the error says where they belong.
    @Test func classFoldersWithoutTrainAreExplained() throws {
        let d = formats.dir()
        try copyJPEG("\(d)/cat/a.jpg"); try copyJPEG("\(d)/dog/b.jpg")
        #expect { try TaskCatalog.load(d, imageSize: 16) } throws: { "\($0)".contains("class folders go in train/<class>/ and test/<class>/ (found cat, dog)") }
    }

    /// VTAB-1k lists written on Windows (CR LF) read as the same lists.
    @Test func crlfListsReadAsLFLists() throws {
        let d = try vtab(4, train800: "images/0.jpg 0\r\n", val200: "images/1.jpg 1\r\n", trainval: "images/0.jpg 0\r\nimages/1.jpg 1\r\n",
                         test: "images/2.jpg 1\r\nimages/3.jpg 0\r\n")
        let s = try TaskCatalog.load(d, imageSize: 16)
        #expect(s.train.count == 2 && s.test.labels == [1, 0] && s.train.classes == 2)
    }

    @Test func brokenJPEGsAreNamedWithTheirFile() throws {
        for (name, bytes, says) in [("truncated.jpg", jpeg.prefix(jpeg.count / 2), "not a readable JPEG"),
                                    ("garbage.jpg", Data([0xFF, 0xD8]) + Data(repeating: 0x41, count: 100), "not a readable JPEG"),
                                    ("empty.jpg", Data(), "empty file"),
                                    ("text.jpg", Data("hello".utf8), "neither a PNG nor a JPEG")] {
            let d = formats.dir()
            try copyJPEG("\(d)/train/a/ok.jpg")
            try copyJPEG("\(d)/test/a/ok.jpg")
            try bytes.write(to: URL(fileURLWithPath: "\(d)/train/a/\(name)"))
            #expect(throws: (any Error).self) { try TaskCatalog.load(d, imageSize: 8) }
            do { _ = try TaskCatalog.load(d, imageSize: 8) } catch {
                #expect("\(error)".contains("\(d)/train/a/\(name)") && "\(error)".contains(says), "\(name): \(error)")
            }
        }
    }

    @Test func eachImageKeepsItsAspectThroughTheCrop() throws {
        // A white 20×20 square centred in a black 40×20 image.
        var pixels = [UInt8](repeating: 0, count: 40 * 20)
        for y in 0..<20 { for x in 10..<30 { pixels[y * 40 + x] = 255 } }
        let d = formats.dir()
        formats.writePNG("\(d)/wide.png", w: 40, h: 20, format: formats.gray, pixels: pixels)
        let img = try ImageDecoder.decode("\(d)/wide.png")
        let crop = try ImagePreprocessing(size: 16, mode: .crop, cropPct: 1).apply(img, channels: 1)
        let squash = try ImagePreprocessing(size: 16, mode: .squash).apply(img, channels: 1)
        #expect(crop.allSatisfy { $0 > 0.5 } && crop.reduce(0, +) / 256 > 0.95, "the centre crop is the square (its edges soft from the filter)")
        #expect(squash[0] < 0.01 && squash[15] < 0.01 && squash[8] > 0.99, "squashed, the black sides remain")
    }

    @Test func pngAndJPEGCopiesGiveTheSameTask() throws {
        // PNG copies holding the JPEGs' decoded pixels: the same labels, counts and images.
        let png = formats.dir(), jpg = formats.dir()
        for (split, cls, name) in [("train", "a", "baseline"), ("train", "b", "progressive"), ("test", "a", "gray"), ("test", "b", "cmyk")] {
            let src = "\(Self.images)/\(cls)/\(name).jpg"
            for d in [png, jpg] { try fm.createDirectory(atPath: "\(d)/\(split)/\(cls)", withIntermediateDirectories: true) }
            try fm.copyItem(atPath: src, toPath: "\(jpg)/\(split)/\(cls)/\(name).jpg")
            let img = try ImageDecoder.decode(src)
            formats.writePNG("\(png)/\(split)/\(cls)/\(name).png", w: img.width, h: img.height, format: formats.rgb, pixels: img.pixels)
        }
        let p = ImagePreprocessing(size: 24, mode: .crop, cropPct: 0.875)
        let a = try TaskCatalog.load(png, imageSize: 24, preprocessing: p), b = try TaskCatalog.load(jpg, imageSize: 24, preprocessing: p)
        #expect(a.train.labels == b.train.labels && a.test.labels == b.test.labels && a.train.classNames == b.train.classNames)
        #expect(a.train.images == b.train.images && a.test.images == b.test.images)
    }

    @Test func decodedImagesAreCachedUntilAFileChanges() throws {
        let d = formats.dir()
        for s in ["train", "test"] { try fm.createDirectory(atPath: "\(d)/\(s)/a", withIntermediateDirectories: true) }
        formats.writePNG("\(d)/train/a/x.png", w: 3, h: 2, format: formats.gray, pixels: [0, 50, 100, 150, 200, 250])
        formats.writePNG("\(d)/test/a/y.png", w: 2, h: 2, format: formats.gray, pixels: [9, 9, 9, 9])
        let first = try TaskCatalog.load(d, imageSize: 4), again = try TaskCatalog.load(d, imageSize: 4)
        #expect(first.train.images == again.train.images && first.train.channels == 1 && again.train.channels == 1)
        formats.writePNG("\(d)/train/a/x.png", w: 3, h: 2, format: formats.gray, pixels: [250, 200, 150, 100, 50, 0])
        let changed = try TaskCatalog.load(d, imageSize: 4)
        #expect(changed.train.images != first.train.images, "a changed image must not come from the cache")
        #expect(try TaskCatalog.load(d, imageSize: 6).train.height == 6)
    }

    @Test func resamplingMatchesPillow() {
        // Values Pillow 12 gives: Image.resize((2, 1), BILINEAR) of float [0, 8, 16, 24] (edge taps renormalized) …
        let out = Resample.resize([0, 8, 16, 24], height: 1, width: 4, channels: 1, toHeight: 1, toWidth: 2, filter: .bilinear)
        #expect(abs(out[0] - 5.714286) < 1e-5 && abs(out[1] - 18.285715) < 1e-5)
        // … and resize((8, 4), BICUBIC) of an 8-bit 20×10 image with a white band in columns 5…14.
        let band = (0..<10).flatMap { _ in (0..<20).map { Float((5..<15).contains($0) ? 255 : 0) } }
        let small = Resample.resize(band, height: 10, width: 20, channels: 1, toHeight: 4, toWidth: 8, filter: .bicubic, bytes: true)
        #expect(Array(small[0..<8]) == [0, 18, 236, 255, 255, 236, 18, 0])
        // Same size: untouched.
        #expect(Resample.resize([1, 2, 3], height: 1, width: 3, channels: 1, toHeight: 1, toWidth: 3, filter: .bicubic) == [1, 2, 3])
    }
}

extension ImageFolderLayoutTests {
    @Test func anExportedTaskLoadsAsTheSameTask() throws {
        let source = try TaskCatalog.load("shape", imageSize: 16), dir = formats.dir() + "/export"
        let n = try TaskExport.write(source, splitSeed: 4, to: dir)
        #expect(n.train == 800 && n.val == 200 && n.test == 2000)
        let back = try TaskCatalog.load(dir, imageSize: 16)
        for p in [TaskData.EvalProtocol.tune, .final] {
            let a = TaskData(source: source, protocol: p, seed: 4), b = TaskData(source: back, protocol: p, seed: 99)
            #expect(a.train.labels == b.train.labels && a.eval.labels == b.eval.labels, "\(p)")
            let worst = zip(a.train.images, b.train.images).map { abs($0 - $1) }.max() ?? 1
            #expect(worst <= 0.5 / 255 + 1e-6, "\(p): pixels differ by \(worst)")
        }
        #expect(throws: (any Error).self) { try TaskExport.write(source, splitSeed: 0, to: dir) }
    }
}
