import Foundation

/// A colour as a theme file gives it: 24-bit RGB ("#rrggbb"), one of the 16 ANSI colours by
/// name, or the terminal's default. The terminal backend picks the best its terminal can show.
public enum ThemeColor: Equatable, Sendable {
    case rgb(UInt8, UInt8, UInt8)
    case ansi(Int)
    case terminalDefault

    static let ansiNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
                            "brightblack", "brightred", "brightgreen", "brightyellow", "brightblue", "brightmagenta", "brightcyan", "brightwhite"]

    public init(parsing s: String) throws {
        let t = s.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        if t == "default" { self = .terminalDefault; return }
        if let i = Self.ansiNames.firstIndex(of: t) { self = .ansi(i); return }
        if t.hasPrefix("#"), t.count == 7, let v = UInt32(t.dropFirst(), radix: 16) {
            self = .rgb(UInt8(v >> 16), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)); return
        }
        throw ThemeError.badColor(s)
    }

    /// Nearest of the 16 ANSI colours (for 16-colour terminals).
    public var ansi16: Int? {
        switch self {
        case .terminalDefault: return nil
        case .ansi(let i): return i
        case .rgb(let r, let g, let b):
            let palette: [(Int, Int, Int)] = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                                              (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]
            return palette.indices.min { a, c in
                func d(_ p: (Int, Int, Int)) -> Int { (p.0 - Int(r)) * (p.0 - Int(r)) + (p.1 - Int(g)) * (p.1 - Int(g)) + (p.2 - Int(b)) * (p.2 - Int(b)) }
                return d(palette[a]) < d(palette[c])
            }
        }
    }

    /// Nearest xterm-256 colour (the 6×6×6 cube or the grey ramp).
    public var xterm256: Int? {
        switch self {
        case .terminalDefault: return nil
        case .ansi(let i): return i
        case .rgb(let r, let g, let b):
            func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
            let cube = 16 + 36 * level(r) + 6 * level(g) + level(b)
            let steps = [0, 95, 135, 175, 215, 255]
            let cr = steps[level(r)], cg = steps[level(g)], cb = steps[level(b)]
            let grey = (Int(r) + Int(g) + Int(b)) / 3
            let gi = min(23, max(0, (grey - 3) / 10)), gv = 8 + 10 * gi
            func d(_ x: Int, _ y: Int, _ z: Int) -> Int { (x - Int(r)) * (x - Int(r)) + (y - Int(g)) * (y - Int(g)) + (z - Int(b)) * (z - Int(b)) }
            return d(gv, gv, gv) < d(cr, cg, cb) ? 232 + gi : cube
        }
    }
}

public enum ThemeError: Error, CustomStringConvertible, Equatable {
    case badColor(String)
    case file(String, String)
    public var description: String {
        switch self {
        case .badColor(let s): "unknown colour \"\(s)\" (use #rrggbb, an ANSI name such as brightblue, or default)"
        case .file(let f, let m): "\(f): \(m)"
        }
    }
}

/// Named colour roles → colours. Widgets only ever name roles.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var colors: [ColorRole: ThemeColor]
    public var series: [ThemeColor]

    public func color(_ role: ColorRole) -> ThemeColor {
        switch role {
        case .series(let i): return series.isEmpty ? .terminalDefault : series[i % series.count]
        case .rgb(let v): return .rgb(UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
        default: return colors[role] ?? .terminalDefault
        }
    }

    /// Every role a frame can use (for the backend's colour pairs).
    public var roles: [ColorRole] {
        [.text, .dim, .title, .axis, .border, .highlight, .warning, .error, .good, .background] + series.indices.map { .series($0) }
    }

    /// No colours at all: NO_COLOR, or a terminal without colour.
    public static let monochrome = Theme(name: "monochrome", colors: [:], series: Array(repeating: .terminalDefault, count: 6))

    /// Parses a theme file: JSON with "name", "colors" (role → colour) and "series" (list).
    public static func parse(_ data: Data, file: String) throws -> Theme {
        struct File: Decodable { var name: String; var colors: [String: String]; var series: [String] }
        let f: File
        do { f = try JSONDecoder().decode(File.self, from: data) } catch {
            throw ThemeError.file(file, "not a theme (JSON with name, colors, series): \(error)")
        }
        let roles: [String: ColorRole] = ["text": .text, "dim": .dim, "title": .title, "axis": .axis, "border": .border,
                                          "highlight": .highlight, "warning": .warning, "error": .error, "good": .good, "background": .background]
        var colors: [ColorRole: ThemeColor] = [:]
        for (k, v) in f.colors {
            guard let role = roles[k] else { throw ThemeError.file(file, "unknown role \"\(k)\" (known: \(roles.keys.sorted().joined(separator: ", ")))") }
            do { colors[role] = try ThemeColor(parsing: v) } catch { throw ThemeError.file(file, "role \(k): \(error)") }
        }
        let series = try f.series.map { s in
            do { return try ThemeColor(parsing: s) } catch { throw ThemeError.file(file, "series: \(error)") }
        }
        guard !series.isEmpty else { throw ThemeError.file(file, "needs at least one series colour") }
        return Theme(name: f.name, colors: colors, series: series)
    }

    /// Folders searched for `<name>.json`: $SPT_THEMES, ./themes, and the source tree's themes/.
    public static var searchPaths: [String] {
        var p: [String] = []
        if let env = ProcessInfo.processInfo.environment["SPT_THEMES"] { p.append(env) }
        p.append("themes")
        p.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../themes").standardized.path)
        return p
    }

    /// Every theme found in the search paths, first occurrence of a name winning, sorted by name.
    public static func loadAll() -> (themes: [Theme], errors: [String]) {
        var found: [String: Theme] = [:], errors: [String] = []
        for dir in searchPaths {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for f in files.sorted() where f.hasSuffix(".json") {
                let path = (dir as NSString).appendingPathComponent(f)
                do {
                    let t = try parse(FileManager.default.contents(atPath: path) ?? Data(), file: path)
                    if found[t.name] == nil { found[t.name] = t }
                } catch { errors.append("\(error)") }
            }
        }
        return (found.values.sorted { $0.name < $1.name }, errors)
    }
}
