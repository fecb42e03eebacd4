import Foundation

/// A one-line chart of block characters, autoscaled to its own min…max (or log10 of it).
public enum Sparkline {
    /// `values` fitted to `width` columns: squeezed (each column the mean of its bucket) or, when
    /// there are fewer values than columns, stretched; NaN → blank.
    public static func render(_ values: [Double], width: Int, log: Bool = false, glyphs: Glyphs) -> String {
        guard width > 0 else { return "" }
        let v = values.map { log ? ($0 > 0 ? log10($0) : .nan) : $0 }
        guard !v.isEmpty else { return String(repeating: " ", count: width) }
        var cols = [Double](repeating: .nan, count: width)
        for c in 0..<width {
            let lo = c * v.count / width, hi = max(lo + 1, (c + 1) * v.count / width)
            let finite = v[lo..<hi].filter(\.isFinite)
            if !finite.isEmpty { cols[c] = finite.reduce(0, +) / Double(finite.count) }
        }
        let finite = cols.filter(\.isFinite)
        guard let mn = finite.min(), let mx = finite.max() else { return String(repeating: " ", count: width) }
        let s = glyphs.sparks
        var out = String.UnicodeScalarView()
        for c in cols {
            if !c.isFinite { out.append(" "); continue }
            let level = mx > mn ? Int(((c - mn) / (mx - mn) * Double(s.count - 1)).rounded()) : s.count / 2
            out.append(s[max(0, min(s.count - 1, level))])
        }
        return String(out)
    }
}
