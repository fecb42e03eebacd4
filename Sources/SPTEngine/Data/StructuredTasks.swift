import Foundation

/// Generated structured tasks in the spirit of VTAB's structured group (Clevr-count, dSprites
/// location and orientation): a few filled shapes on a dark canvas, rendered with 4×4
/// supersampling at the backbone's resolution, deterministic from a seed. They are
/// out-of-domain for a Fashion-MNIST backbone and need no files.
public enum StructuredTasks {
    public enum Kind: String, CaseIterable, Sendable {
        case count, shape, xPosition = "x-position", orientation

        public var classNames: [String] {
            switch self {
            case .count: (1...6).map { "\($0) object\($0 > 1 ? "s" : "")" }
            case .shape: Shape.allCases.map(\.rawValue)
            case .xPosition: (0..<7).map { "x bin \($0)" }
            case .orientation: (0..<8).map { "\($0 * 45)°±22.5°" }
            }
        }

        public var describe: String {
            switch self {
            case .count: "how many shapes (1–6), mixed kinds and sizes"
            case .shape: "which shape: square, circle, arrow, cross"
            case .xPosition: "horizontal position of one shape, 7 bins"
            case .orientation: "direction an arrow points, 8 bins of 45°"
            }
        }
    }

    public enum Shape: String, CaseIterable, Sendable { case square, circle, arrow, cross }

    struct Object { var shape: Shape; var cx, cy, r, angle: Double; var brightness: Float }

    /// Train and test splits of one task.
    public static func make(_ kind: Kind, size: Int, seed: UInt64 = 0, train: Int = 2000, test: Int = 2000) -> DataSplits {
        DataSplits(train: generate(kind, size: size, count: train, seed: seed),
                   test: generate(kind, size: size, count: test, seed: seed &+ 0x5EED))
    }

    static func generate(_ kind: Kind, size S: Int, count n: Int, seed: UInt64) -> Dataset {
        var rng = RNG(seed: seed ^ UInt64(Kind.allCases.firstIndex(of: kind)! + 1) &* 0x9E37_79B9_7F4A_7C15)
        var images = [Float](repeating: 0, count: n * S * S), labels = [Int32](repeating: 0, count: n)
        let classes = kind.classNames.count
        for i in 0..<n {
            let label = rng.int(classes)
            labels[i] = Int32(label)
            var objects: [Object] = []
            func randomObject(_ shape: Shape? = nil, r: Double? = nil) -> Object {
                let rr = r ?? Double(rng.uniform(0.09, 0.16)) * Double(S)
                return Object(shape: shape ?? Shape.allCases[rng.int(Shape.allCases.count)],
                              cx: Double(rng.uniform(Float(rr), Float(Double(S) - rr))), cy: Double(rng.uniform(Float(rr), Float(Double(S) - rr))),
                              r: rr, angle: Double(rng.uniform(0, 2 * .pi)), brightness: rng.uniform(0.6, 1))
            }
            switch kind {
            case .count:
                var tries = 0
                while objects.count < label + 1 && tries < 500 {
                    tries += 1
                    let o = randomObject(r: Double(rng.uniform(0.06, 0.1)) * Double(S))
                    if objects.allSatisfy({ hypot($0.cx - o.cx, $0.cy - o.cy) > $0.r + o.r + 1 }) { objects.append(o) }
                }
            case .shape:
                var o = randomObject(Shape.allCases[label], r: Double(rng.uniform(0.16, 0.26)) * Double(S))
                o.cx = Double(rng.uniform(Float(o.r), Float(Double(S) - o.r))); o.cy = Double(rng.uniform(Float(o.r), Float(Double(S) - o.r)))
                objects.append(o)
            case .xPosition:
                var o = randomObject()
                let bin = Double(S) / Double(classes)
                o.cx = (Double(label) + Double(rng.uniform(0.15, 0.85))) * bin
                objects.append(o)
            case .orientation:
                var o = randomObject(.arrow, r: Double(rng.uniform(0.22, 0.3)) * Double(S))
                o.cx = Double(S) / 2 + Double(rng.uniform(-2, 2)); o.cy = Double(S) / 2 + Double(rng.uniform(-2, 2))
                o.angle = (Double(label) + Double(rng.uniform(-0.5, 0.5))) * .pi / 4
                objects.append(o)
            }
            render(objects, into: &images, offset: i * S * S, size: S)
        }
        return Dataset(name: kind.rawValue, images: images, labels: labels, channels: 1, height: S, width: S,
                       classes: classes, classNames: kind.classNames)
    }

    static func render(_ objects: [Object], into img: inout [Float], offset: Int, size S: Int) {
        let sub = 4
        for y in 0..<S {
            for x in 0..<S {
                var v: Float = 0
                for o in objects {
                    var hits = 0
                    for sy in 0..<sub {
                        for sx in 0..<sub {
                            let px = Double(x) + (Double(sx) + 0.5) / Double(sub), py = Double(y) + (Double(sy) + 0.5) / Double(sub)
                            if inside(o, px, py) { hits += 1 }
                        }
                    }
                    v = max(v, o.brightness * Float(hits) / Float(sub * sub))
                }
                img[offset + y * S + x] = v
            }
        }
    }

    /// Whether a point is inside an object; shapes are drawn in the object's rotated frame.
    static func inside(_ o: Object, _ px: Double, _ py: Double) -> Bool {
        let dx = px - o.cx, dy = py - o.cy
        let c = cos(-o.angle), s = sin(-o.angle)
        let u = (dx * c - dy * s) / o.r, v = (dx * s + dy * c) / o.r
        switch o.shape {
        case .circle: return u * u + v * v <= 1
        case .square: return abs(u) <= 0.75 && abs(v) <= 0.75
        case .cross: return (abs(u) <= 1 && abs(v) <= 0.3) || (abs(v) <= 1 && abs(u) <= 0.3)
        case .arrow:
            // isosceles triangle with its apex at (1, 0): points the way the angle says
            guard u >= -0.6 && u <= 1 else { return false }
            return abs(v) <= 0.55 * (1 - u) / 1.6
        }
    }
}
