import DiffusionCore
import Dispatch

/// The machine's multiply-add ceiling for the package's own kernels: twelve independent chains
/// of fused multiply-adds on the running instruction set's vectors (`Kernels.fmaChains`: 8 lanes
/// on AVX2, 16 on AVX-512), enough in flight to cover the FMA latency on both pipes. Nothing is
/// loaded or stored, so no kernel of ours can beat it; `diffuse-bench ops` prints it beside
/// sgemm, whose OpenBLAS kernel picks its own vectors.
enum PeakBenchmark {
    /// FLOP/s on `threads` threads at once, the best of `repeats` runs.
    static func flops(threads: Int, repeats: Int) -> Double {
        let iterations = 20_000_000
        let kernels = Kernels.current
        let seconds = bestTime(repeats) {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                precondition(kernels.fmaChains(iterations).isFinite, "the chains stay near 1")
            }
        }
        return Double(threads * iterations * 12 * 2 * kernels.lanes) / seconds
    }
}
