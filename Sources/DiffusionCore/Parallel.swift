import Dispatch
import Foundation

/// Splits work across the cores. Every kernel that threads goes through here, so one
/// setting controls the whole runtime, OpenBLAS included.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = ProcessInfo.processInfo.activeProcessorCount

    /// The number of worker threads (default: all cores); OpenBLAS runs its larger products on
    /// as many, or on OPENBLAS_NUM_THREADS if that is fewer (`BLAS.sgemm`).
    public static var threadCount: Int {
        get { configuredThreads }
        set { configuredThreads = max(1, newValue) }
    }

    /// Calls `body` on disjoint ranges covering `0..<count`, one range per thread, in parallel.
    /// `minimumPerThread` keeps tiny loops on one thread, where starting workers costs more
    /// than it saves.
    public static func forEachRange(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(1, minimumPerThread)))
        if chunks == 1 { return body(0..<count) }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spread across the threads.
    public static func forEach(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        forEachRange(count, minimumPerThread: minimumPerThread) { range in
            for i in range { body(i) }
        }
    }
}
