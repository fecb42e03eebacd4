import Foundation

/// One `Record` of a W&B run file (wandb_internal.proto), reduced to what run logs carry. Values
/// are W&B's JSON texts (`value_json`) or, in newer writers, typed fields; nested keys join with
/// `.` as W&B's own views name them, and a JSON object value is flattened the same way.
enum WandBRecord: Equatable {
    typealias Items = [(key: String, value: JSONValue)]
    case history(Items)
    case summary(Items)
    case config(Items)
    /// Run id, display name, project, start (Unix seconds), config.
    case run(id: String, name: String, project: String, start: Double?, config: Items)
    case stats(time: Double?, Items)
    case exit(code: Int)
    case other

    struct Malformed: Error {}

    static func == (a: Self, b: Self) -> Bool {
        func same(_ x: Items, _ y: Items) -> Bool { x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value) }
        switch (a, b) {
        case (.history(let x), .history(let y)), (.summary(let x), .summary(let y)), (.config(let x), .config(let y)): return same(x, y)
        case (.run(let i, let n, let p, let s, let c), .run(let i2, let n2, let p2, let s2, let c2)):
            return (i, n, p, s) == (i2, n2, p2, s2) && same(c, c2)
        case (.stats(let t, let x), .stats(let t2, let y)): return t == t2 && same(x, y)
        case (.exit(let c), .exit(let c2)): return c == c2
        case (.other, .other): return true
        default: return false
        }
    }

    // Field numbers of wandb_internal.proto.
    private enum Field {
        static let history = 2, summary = 3, config = 5, stats = 7, run = 17, exit = 18
    }

    init(decoding payload: [UInt8]) throws {
        var r = ProtoReader(payload[...])
        self = .other
        do {
            while let (n, f) = try r.next() {
                guard case .bytes(let b) = f else { continue }
                switch n {
                case Field.history: self = .history(try Self.items(b, field: 1))
                case Field.summary: self = .summary(try Self.items(b, field: 1))
                case Field.config: self = .config(try Self.items(b, field: 1))
                case Field.stats: self = try Self.stats(b)
                case Field.run: self = try Self.run(b)
                case Field.exit: self = try Self.exit(b)
                default: break
                }
            }
        } catch is ProtoReader.Malformed {
            throw Malformed()
        }
    }

    /// The repeated item messages in `field` of a history, summary, config or stats message.
    private static func items(_ bytes: ArraySlice<UInt8>, field: Int) throws -> Items {
        var r = ProtoReader(bytes), out: Items = []
        while let (n, f) = try r.next() {
            guard n == field, case .bytes(let b) = f else { continue }
            if let (key, value) = try item(b) { out += flatten(key, value) }
        }
        return out
    }

    /// `HistoryItem`/`SummaryItem`/`ConfigItem`/`StatsItem`: key (1) or nested_key (2, repeated),
    /// the typed value (4 bool, 5 sint64, 6 double, 7 text, 8 json) or value_json (16).
    private static func item(_ bytes: ArraySlice<UInt8>) throws -> (String, JSONValue)? {
        var r = ProtoReader(bytes), key: String?, nested: [String] = [], value: JSONValue?
        while let (n, f) = try r.next() {
            switch (n, f) {
            case (1, .bytes(let b)): key = String(decoding: b, as: UTF8.self)
            case (2, .bytes(let b)): nested.append(String(decoding: b, as: UTF8.self))
            case (4, .varint(let v)): value = .bool(v != 0)
            case (5, .varint(let v)): value = .number(Double(Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)))
            case (6, .fixed64(let v)): value = .number(Double(bitPattern: v))
            case (7, .bytes(let b)): value = .string(String(decoding: b, as: UTF8.self))
            case (8, .bytes(let b)), (16, .bytes(let b)): value = json(b)
            default: break
            }
        }
        let name = nested.isEmpty ? key : nested.joined(separator: ".")
        guard let name, let value else { return nil }
        return (name, value)
    }

    /// A `value_json` text; Python's json writes non-finite numbers as bare NaN and ±Infinity.
    static func json(_ bytes: ArraySlice<UInt8>) -> JSONValue? {
        switch String(decoding: bytes, as: UTF8.self) {
        case "NaN": return .number(.nan)
        case "Infinity": return .number(.infinity)
        case "-Infinity": return .number(-.infinity)
        default: return bytes.withUnsafeBytes { try? JSONValue.parse($0) }
        }
    }

    /// An object value as one entry per leaf, named `key.sub…` (arrays stay whole).
    private static func flatten(_ key: String, _ value: JSONValue) -> Items {
        guard case .object(let o) = value, !o.isEmpty else { return [(key, value)] }
        return o.keys.sorted().flatMap { flatten(key + "." + $0, o[$0]!) }
    }

    private static func stats(_ bytes: ArraySlice<UInt8>) throws -> WandBRecord {
        var r = ProtoReader(bytes), time: Double?
        while let (n, f) = try r.next() {
            if n == 2, case .bytes(let b) = f { time = try timestamp(b) }
        }
        return .stats(time: time, try items(bytes, field: 3))
    }

    private static func run(_ bytes: ArraySlice<UInt8>) throws -> WandBRecord {
        var r = ProtoReader(bytes), id = "", name = "", project = "", start: Double?, config: Items = []
        while let (n, f) = try r.next() {
            guard case .bytes(let b) = f else { continue }
            switch n {
            case 1: id = String(decoding: b, as: UTF8.self)
            case 3: project = String(decoding: b, as: UTF8.self)
            case 4: config = try items(b, field: 1)
            case 8: name = String(decoding: b, as: UTF8.self)
            case 17: start = try timestamp(b)
            default: break
            }
        }
        return .run(id: id, name: name, project: project, start: start, config: config)
    }

    private static func exit(_ bytes: ArraySlice<UInt8>) throws -> WandBRecord {
        var r = ProtoReader(bytes), code = 0
        while let (n, f) = try r.next() {
            if n == 1, case .varint(let v) = f { code = Int(Int32(truncatingIfNeeded: v)) }
        }
        return .exit(code: code)
    }

    /// google.protobuf.Timestamp as Unix seconds.
    private static func timestamp(_ bytes: ArraySlice<UInt8>) throws -> Double {
        var r = ProtoReader(bytes), seconds: Int64 = 0, nanos: Int32 = 0
        while let (n, f) = try r.next() {
            switch (n, f) {
            case (1, .varint(let v)): seconds = Int64(bitPattern: v)
            case (2, .varint(let v)): nanos = Int32(truncatingIfNeeded: v)
            default: break
            }
        }
        return Double(seconds) + Double(nanos) / 1e9
    }
}
