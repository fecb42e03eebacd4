import Foundation

/// One `Event` of a TensorBoard event file, reduced to what run logs carry: its time, step, and
/// the scalar and text values of its summary (images, histograms and graphs are left out).
public struct TensorBoardEvent: Equatable, Sendable {
    public enum Value: Equatable, Sendable { case scalar(Double), text(String) }
    public var wallTime: Double
    public var step: Int
    public var fileVersion: String?
    public var values: [(tag: String, value: Value)]

    public init(wallTime: Double, step: Int, fileVersion: String? = nil, values: [(tag: String, value: Value)] = []) {
        self.wallTime = wallTime; self.step = step; self.fileVersion = fileVersion; self.values = values
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.wallTime == b.wallTime && a.step == b.step && a.fileVersion == b.fileVersion
            && a.values.map(\.tag) == b.values.map(\.tag) && a.values.map(\.value) == b.values.map(\.value)
    }

    struct Malformed: Error {}

    /// Decodes an `Event` payload. Scalars come as `simple_value` (PyTorch's SummaryWriter,
    /// TF1) or as a one-element float/double/half/int tensor (TF2's `tf.summary.scalar`); text as
    /// a string tensor (the text plugin).
    public init(decoding payload: [UInt8]) throws {
        wallTime = 0; step = 0; values = []
        var r = ProtoReader(payload[...])
        do {
            while let (n, f) = try r.next() {
                switch (n, f) {
                case (1, .fixed64(let v)): wallTime = Double(bitPattern: v)
                case (2, .varint(let v)): step = Int(truncatingIfNeeded: Int64(bitPattern: v))
                case (3, .bytes(let b)): fileVersion = String(decoding: b, as: UTF8.self)
                case (5, .bytes(let b)): values = try Self.summary(b)
                default: break
                }
            }
        } catch is ProtoReader.Malformed {
            throw Malformed()
        }
    }

    private static func summary(_ bytes: ArraySlice<UInt8>) throws -> [(tag: String, value: Value)] {
        var r = ProtoReader(bytes), out: [(tag: String, value: Value)] = []
        while let (n, f) = try r.next() {
            guard n == 1, case .bytes(let b) = f else { continue }
            var v = ProtoReader(b), tag = "", value: Value?
            while let (m, g) = try v.next() {
                switch (m, g) {
                case (1, .bytes(let t)): tag = String(decoding: t, as: UTF8.self)
                case (2, .fixed32(let bits)): value = .scalar(Double(Float(bitPattern: bits)))
                case (8, .bytes(let t)): value = try tensor(t) ?? value
                default: break
                }
            }
            if let value { out.append((tag, value)) }
        }
        return out
    }

    /// A scalar or string tensor's one value (nil for anything else).
    private static func tensor(_ bytes: ArraySlice<UInt8>) throws -> Value? {
        var r = ProtoReader(bytes), dtype: UInt64 = 0, content: ArraySlice<UInt8> = []
        var numbers: [Double] = [], strings: [String] = []
        while let (n, f) = try r.next() {
            switch (n, f) {
            case (1, .varint(let v)): dtype = v
            case (4, .bytes(let b)): content = b
            case (5, .fixed32(let v)): numbers.append(Double(Float(bitPattern: v)))
            case (5, .bytes(let b)): numbers += stride(from: b.startIndex, to: b.endIndex - 3, by: 4).map {
                Double(Float(bitPattern: UInt32(ProtoReader.little(b[$0..<($0 + 4)])))) }
            case (6, .fixed64(let v)): numbers.append(Double(bitPattern: v))
            case (6, .bytes(let b)): numbers += stride(from: b.startIndex, to: b.endIndex - 7, by: 8).map {
                Double(bitPattern: ProtoReader.little(b[$0..<($0 + 8)])) }
            case (7, .varint(let v)), (10, .varint(let v)): numbers.append(Double(Int64(bitPattern: v)))
            case (7, .bytes(let b)), (10, .bytes(let b)), (13, .bytes(let b)):
                var p = ProtoReader(b)
                while true {
                    guard let v = try? p.varint() else { break }
                    numbers.append(n == 13 ? Double(Float16(bitPattern: UInt16(truncatingIfNeeded: v))) : Double(Int64(bitPattern: v)))
                }
            case (13, .varint(let v)): numbers.append(Double(Float16(bitPattern: UInt16(truncatingIfNeeded: v))))
            case (8, .bytes(let b)): strings.append(String(decoding: b, as: UTF8.self))
            default: break
            }
        }
        if dtype == 7 { return strings.first.map(Value.text) }
        if numbers.isEmpty, !content.isEmpty {
            switch dtype {
            case 1 where content.count == 4: numbers = [Double(Float(bitPattern: UInt32(ProtoReader.little(content))))]
            case 2 where content.count == 8: numbers = [Double(bitPattern: ProtoReader.little(content))]
            case 19 where content.count == 2: numbers = [Double(Float16(bitPattern: UInt16(ProtoReader.little(content))))]
            case 3 where content.count == 4: numbers = [Double(Int32(bitPattern: UInt32(ProtoReader.little(content))))]
            case 9 where content.count == 8: numbers = [Double(Int64(bitPattern: ProtoReader.little(content)))]
            default: break
            }
        }
        return numbers.count == 1 ? .scalar(numbers[0]) : nil
    }

    /// The `Event` payload: scalars as `simple_value` (what PyTorch's SummaryWriter writes, and
    /// what every TensorBoard version reads as a scalar), text as a string tensor of the text plugin.
    public func encoded() -> [UInt8] {
        var w = ProtoWriter()
        w.double(1, wallTime)
        w.varint(2, UInt64(bitPattern: Int64(step)))
        if let fileVersion { w.string(3, fileVersion) }
        if !values.isEmpty {
            w.message(5) { s in
                for (tag, value) in values {
                    s.message(1) { v in
                        v.string(1, tag)
                        switch value {
                        case .scalar(let x): v.float(2, Float(x))
                        case .text(let t):
                            v.message(9) { m in m.message(1) { p in p.string(1, "text") } }
                            v.message(8) { t2 in
                                t2.varint(1, 7)                                  // DT_STRING
                                t2.message(2) { shape in shape.message(2) { d in d.varint(1, 1) } }  // shape [1]
                                t2.string(8, t)
                            }
                        }
                    }
                }
            }
        }
        return w.bytes
    }
}
