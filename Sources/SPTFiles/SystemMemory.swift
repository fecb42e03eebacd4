import Foundation

/// Memory the system can give without swapping (MemAvailable), or nil where unknown.
public func availableMemory() -> Int? {
    guard let s = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kb * 1024
}
