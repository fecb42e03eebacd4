import COpenBLAS
import Dispatch

/// The engine's worker count, for Swift loops and for splitting BLAS products.
public enum Parallel {
    nonisolated(unsafe) public private(set) static var threads = 1

    /// Sets the worker count. OpenBLAS itself runs single-threaded (overriding
    /// OPENBLAS_NUM_THREADS): `gemm` splits products across these workers instead.
    public static func setThreads(_ n: Int) {
        threads = max(1, n)
        openblas_set_num_threads(1)
    }

    /// How many chunks `chunks(count, minChunk:)` splits into.
    public static func chunkCount(_ count: Int, minChunk: Int = 1) -> Int {
        min(threads, max(1, count / max(1, minChunk)))
    }

    /// Runs `body(chunk, range)` over `0..<count` split into `chunkCount` contiguous ranges.
    /// The split depends only on `count`, `minChunk` and `threads`, so reductions done per chunk
    /// and combined in chunk order are deterministic for a given thread count.
    @inline(__always)
    public static func chunks(_ count: Int, minChunk: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let n = chunkCount(count, minChunk: minChunk)
        if n <= 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: n) { t in
            let lo = count * t / n, hi = count * (t + 1) / n
            if lo < hi { body(t, lo..<hi) }
        }
    }
}
