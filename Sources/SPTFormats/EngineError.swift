/// Every error the engine and its readers throw: what went wrong, with the file (and position)
/// or the option it came from.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case diverged(step: Int, what: String)
    case checkpoint(file: String, message: String)
    case data(file: String, message: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid model config: \(m)"
        case .diverged(let s, let w): return "diverged at step \(s): \(w)"
        case .checkpoint(let f, let m): return "\(f): \(m)"
        case .data(let f, let m): return "\(f): \(m)"
        case .invalidArgument(let m): return m
        }
    }
}
