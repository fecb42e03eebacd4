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

import Foundation

/// A Foundation file error (NSCocoaErrorDomain, code and all) as one line that names the path
/// and the system's reason; any other error unchanged. The executables pass what they are about
/// to print through it.
public func readableError(_ error: Error) -> Error {
    guard let e = error as? CocoaError else { return error }
    let posix = (e.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
    let reason: String
    switch e.code {
    case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or directory"
    case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
    case .fileWriteOutOfSpace: reason = "no space left on device"
    case .fileWriteFileExists: reason = "a file of that name exists"
    default: reason = posix ?? "cannot be read or written (Foundation code \(e.code.rawValue))"
    }
    return OutputError(path: e.filePath ?? e.url?.path ?? "(unknown file)", message: posix.map { reason == $0 ? $0 : "\(reason) (\($0))" } ?? reason)
}
