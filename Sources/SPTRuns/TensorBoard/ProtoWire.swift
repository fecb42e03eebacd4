/// The protobuf wire format, for the few fields of TensorBoard's `Event`, `Summary` and
/// `TensorProto` this project reads and writes (hand-written: swift-protobuf would need code
/// generated from TensorFlow's .proto files for six fields).
struct ProtoReader {
    enum Field {
        case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)
    }
    struct Malformed: Error {}

    private let data: ArraySlice<UInt8>
    private var i: Int

    init(_ data: ArraySlice<UInt8>) { self.data = data; i = data.startIndex }

    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < data.endIndex, shift < 64 else { throw Malformed() }
            let b = data[i]; i += 1
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, data.endIndex - i >= n else { throw Malformed() }
        defer { i += n }
        return data[i..<(i + n)]
    }

    /// The next (field number, value), nil at the end.
    mutating func next() throws -> (Int, Field)? {
        guard i < data.endIndex else { return nil }
        let key = try varint()
        let number = Int(truncatingIfNeeded: key >> 3)
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 1: return (number, .fixed64(Self.little(try take(8))))
        case 2:
            let n = try varint()
            guard n <= UInt64(Int.max) else { throw Malformed() }
            return (number, .bytes(try take(Int(n))))
        case 5: return (number, .fixed32(UInt32(Self.little(try take(4)))))
        default: throw Malformed()
        }
    }

    static func little(_ b: ArraySlice<UInt8>) -> UInt64 {
        b.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    private mutating func key(_ field: Int, _ type: UInt64) { varint(UInt64(field) << 3 | type) }

    mutating func varint(_ field: Int, _ v: UInt64) { key(field, 0); varint(v) }
    mutating func double(_ field: Int, _ v: Double) { key(field, 1); bytes += TFRecord.littleEndian(v.bitPattern) }
    mutating func float(_ field: Int, _ v: Float) { key(field, 5); bytes += TFRecord.littleEndian(v.bitPattern) }
    mutating func bytes(_ field: Int, _ v: [UInt8]) { key(field, 2); varint(UInt64(v.count)); bytes += v }
    mutating func string(_ field: Int, _ v: String) { bytes(field, Array(v.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var w = ProtoWriter()
        build(&w)
        bytes(field, w.bytes)
    }
}
