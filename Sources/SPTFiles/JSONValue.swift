import Foundation

/// A parsed JSON value. Run logs are read with this small byte-level parser rather than
/// JSONDecoder, which was ~10× too slow for the 100k-record logs the dashboard replays.
public enum JSONValue: Equatable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public var double: Double? {
        switch self {
        case .number(let d): d
        case .string("NaN"): .nan
        case .string("Infinity"): .infinity
        case .string("-Infinity"): -.infinity
        default: nil
        }
    }
    public var int: Int? { if case .number(let d) = self, d == d.rounded(), abs(d) < 9e15 { Int(d) } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// The value as a short text for messages: numbers as written, strings quoted, containers elided.
    public var text: String {
        switch self {
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        case .null: "null"
        case .array: "[…]"
        case .object: "{…}"
        }
    }

    public struct ParseError: Error, Equatable { public let offset: Int; public let message: String }

    /// Where `data` stops being JSON, as a person finds it: "line 3, column 7 (byte 42): expected
    /// ',' or '}'"; nil for valid JSON.
    public static func syntaxProblem(_ data: Data) -> String? {
        let bytes = [UInt8](data)
        do { _ = try bytes.withUnsafeBytes { try parse($0) }; return nil } catch let e as ParseError {
            let before = bytes[..<min(e.offset, bytes.count)]
            let line = before.filter { $0 == 0x0A }.count + 1
            let column = before.count - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            return "line \(line), column \(column) (byte \(e.offset)): \(e.message)"
        } catch { return "\(error)" }
    }

    /// A Decodable's complaint in one line: the key path and what was wrong there.
    public static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func at(_ c: DecodingError.Context) -> String {
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + String(c.debugDescription.prefix(200))
        }
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return at(c)
        case .keyNotFound(let k, let c): return at(c) + " (missing key \(k.stringValue))"
        @unknown default: return "\(e)"
        }
    }

    /// Parses one complete JSON text (trailing whitespace allowed, nothing else).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var p = Parser(b: bytes.bindMemory(to: UInt8.self))
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.b.count else { throw ParseError(offset: p.i, message: "trailing characters") }
        return v
    }
}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    func fail(_ m: String) -> JSONValue.ParseError { JSONValue.ParseError(offset: i, message: m) }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    /// After a member or element: true at the closing bracket, false at a comma (either consumed).
    mutating func closes(with bracket: Unicode.Scalar) throws -> Bool {
        skipSpace()
        guard i < b.count else { throw fail("unexpected end") }
        if b[i] == UInt8(ascii: ",") { i += 1; return false }
        if b[i] == UInt8(ascii: bracket) { i += 1; return true }
        throw fail("expected ',' or '\(bracket)'")
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 64 else { throw fail("nested too deeply") }
        skipSpace()
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var o: [String: JSONValue] = [:]
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let k = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                o[k] = try value(depth: depth + 1)
                if try closes(with: "}") { return .object(o) }
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                a.append(try value(depth: depth + 1))
                if try closes(with: "]") { return .array(a) }
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end") }
        for k in 0..<n where b[i + k] != s.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    mutating func number() throws -> Double {
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; digits += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { throw fail("invalid number") }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            var e = 0
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1; e += 1 }
            guard e > 0 else { throw fail("invalid exponent") }
        }
        // strtod on a NUL-terminated stack copy avoids building a String; if a locale with a
        // decimal comma makes it stop early, Double(String) (locale-independent) decides
        let n = i - start
        let fast: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf in
            for k in 0..<n { buf[k] = CChar(bitPattern: b[start + k]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let d = strtod(buf.baseAddress!, &end)
            return end == buf.baseAddress! + n ? d : nil
        }
        if let d = fast { return d }
        guard let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)) else { throw fail("invalid number") }
        return d
    }

    mutating func string() throws -> String {
        i += 1 // opening quote
        var out = [UInt8]()
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { break }
                switch b[i] {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 2 < b.count, b[i + 1] == UInt8(ascii: "\\"), b[i + 2] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                        } else {
                            // An unpaired high surrogate (found by fuzzing: it underflowed here):
                            // a replacement character, then the second escape on its own.
                            out.append(contentsOf: Array("\u{FFFD}".utf8))
                            scalar = low
                        }
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
                default: throw fail("invalid escape")
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 < b.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            i += 1
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("bad hex digit")
            }
            v = v << 4 | d
        }
        return v
    }
}
