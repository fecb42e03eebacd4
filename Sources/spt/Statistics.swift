/// Summaries over seeds and blocks for `spt train` and `spt compare` (NaN for nothing).
func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

/// Sample standard deviation (n − 1); 0 for fewer than two values.
func sd(_ v: [Double]) -> Double {
    guard v.count > 1 else { return 0 }
    let m = mean(v)
    return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
}

/// nil for NaN and ±∞ (JSON null).
func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
