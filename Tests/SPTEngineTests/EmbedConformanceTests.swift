import Foundation
import Testing
import SPTEngine

/// Pre-logits of a 224² timm checkpoint on an image folder (PNG and JPEG: baseline, progressive,
/// gray, CMYK; several sizes) against timm's own under its eval transform built from the same
/// config.json (tools/timm/make_fixtures.py).
@Suite struct EmbedConformanceTests {
    static let dir = TimmConformanceTests.root + "/embed"

    func embed(_ b: Backbone, _ files: [String]) throws -> [Float] {
        let S = b.config.imageSize
        let images = try files.flatMap { try b.preprocessing.apply(ImageDecoder.decode("\(Self.dir)/images/\($0)"), channels: 3) }
        let data = Dataset(name: "embed", images: images, labels: files.map { _ in 0 }, channels: 3, height: S, width: S, classes: 1)
        return Features.compute(b, data).features
    }

    func files(_ f: SafeTensors, _ key: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(f.metadata[key]!.utf8))
    }

    @Test func withoutResamplingTheFeaturesMatchTimm() throws {
        let expected = try SafeTensors(path: Self.dir + "/expected.safetensors")
        // 224² images with crop_pct 1: decoding and normalization only.
        var b = try Backbone.load(Self.dir)
        b.preprocessing.cropPct = 1
        let got = try embed(b, try files(expected, "exact_files")), want = try expected.floats("pre_logits_exact")
        let diff = zip(got, want).map { abs($0 - $1) }.max()!
        print("embed without resampling: largest difference \(diff)")
        #expect(diff <= 1e-4)
    }

    @Test func underTimmsEvalTransformEveryImageAgrees() throws {
        let expected = try SafeTensors(path: Self.dir + "/expected.safetensors")
        let b = try Backbone.load(Self.dir)
        #expect(b.preprocessing.cropPct == 0.875 && b.preprocessing.mode == .crop && b.norm.mean == [0.485, 0.456, 0.406])
        let names = try files(expected, "files")
        let got = try embed(b, names), want = try expected.floats("pre_logits"), D = b.config.dim
        for (i, name) in names.enumerated() {
            let a = got[(i * D)..<((i + 1) * D)], r = want[(i * D)..<((i + 1) * D)]
            let dot = zip(a, r).map { Double($0) * Double($1) }.reduce(0, +)
            let cos = dot / (a.map { Double($0 * $0) }.reduce(0, +).squareRoot() * r.map { Double($0 * $0) }.reduce(0, +).squareRoot())
            print("embed \(name): cosine \(cos), largest difference \(zip(a, r).map { abs($0 - $1) }.max()!)")
            #expect(cos >= 0.999, "\(name): cosine similarity \(cos)")
        }
    }
}
