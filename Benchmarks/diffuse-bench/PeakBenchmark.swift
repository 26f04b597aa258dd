import DiffusionCore
import Dispatch

/// The machine's multiply-add ceiling for the package's own kernels: twelve independent chains
/// of 8-lane fused multiply-adds (the Haswell baseline's widest vector, `Package.swift`), enough
/// in flight to cover the FMA latency on both pipes. Nothing is loaded or stored, so no kernel of
/// ours can beat it; `diffuse-bench ops` prints it beside sgemm, whose OpenBLAS kernel uses
/// AVX-512 on this CPU, to show where the wider vectors pay.
enum PeakBenchmark {
    /// FLOP/s on `threads` threads at once, the best of `repeats` runs.
    static func flops(threads: Int, repeats: Int) -> Double {
        let iterations = 20_000_000
        let seconds = bestTime(repeats) {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                precondition(fmaChains(iterations).sum().isFinite, "the chains stay near 1")
            }
        }
        return Double(threads * iterations * 12 * 16) / seconds
    }

    /// `a = a * m + c` on twelve vectors, `iterations` times; returns their sum so none is dead.
    @inline(never)
    private static func fmaChains(_ iterations: Int) -> SIMD8<Float> {
        let (m, c) = (SIMD8<Float>(repeating: 0.999_999), SIMD8<Float>(repeating: 1e-6))
        var (a0, a1, a2, a3, a4, a5) = (m, m, m, m, m, m)
        var (a6, a7, a8, a9, a10, a11) = (m, m, m, m, m, m)
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
            a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
            a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m); a8 = c.addingProduct(a8, m)
            a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
    }
}
