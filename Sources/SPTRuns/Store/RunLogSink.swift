import Foundation

/// Where a run's records go: its log file, then an observer (a summary, a dashboard). The first
/// write error is kept and stops further writes, so a run whose log would be incomplete is
/// stopped by its trainer instead of going on with a silently truncated log.
public final class RunLogSink: @unchecked Sendable {
    public let writer: RunLogWriter?
    private let observe: (RunRecord) -> Void
    private let lock = NSLock()
    private var firstError: RunLogError?

    /// `writer` nil: records only go to the observer (tests, benchmarks).
    public init(writer: RunLogWriter?, observe: @escaping (RunRecord) -> Void = { _ in }) {
        self.writer = writer; self.observe = observe
    }

    /// A sink without a file.
    public convenience init(_ observe: @escaping (RunRecord) -> Void) { self.init(writer: nil, observe: observe) }

    /// The first write error, if any: the log ends before this run's records do.
    public var failure: RunLogError? { lock.lock(); defer { lock.unlock() }; return firstError }

    /// Writes the record (unless a write already failed), then shows it to the observer.
    public func emit(_ r: RunRecord) {
        if let writer, failure == nil {
            do { try writer.append(r) } catch {
                let e = (error as? RunLogError) ?? .io(path: writer.path, message: "\(error)")
                lock.lock(); firstError = e; lock.unlock()
            }
        }
        observe(r)
    }

    /// Throws the first write error, if there was one.
    public func check() throws { if let f = failure { throw f } }
}
