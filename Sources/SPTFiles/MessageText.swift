/// A value from a file as it may appear in a message: control characters (an escape sequence
/// would reach the terminal) shown as `\u{1B}`, and cut to `limit` characters (a 50 MB key once
/// took 39 s to print).
public func printable(_ s: String, limit: Int = 80) -> String {
    var out = ""
    for scalar in s.unicodeScalars {
        if out.count >= limit { return out + "…" }
        let v = scalar.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { out += "\\u{\(String(v, radix: 16, uppercase: true))}" } else { out.unicodeScalars.append(scalar) }
    }
    return out
}
