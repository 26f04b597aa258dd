import ArgumentParser
import DiffusionCore
import Foundation

/// `diffuse-bench ops`: the kernels every model spends its time in, against their baselines.
///
/// - sgemm through `Tensor.matmul` against OpenBLAS's `cblas_sgemm` called directly on the
///   same buffers (the tensor core should add nothing);
/// - the 3x3 convolution at the SD1.5 UNet's shapes by each algorithm: Winograd F(2x2) and F(4x4),
///   the direct SIMD kernel, and the patch matrix (im2col + sgemm, the textbook way on BLAS); a
///   chosen layer runs F(4x4), F(2x2) or the patch matrix by the input's tile count;
/// - attention at SD1.5's and SDXL's shapes; and the FMA peak (`PeakBenchmark`).
struct OpsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Time sgemm, the 3x3 convolution and attention at SD1.5/SDXL shapes (GFLOP/s).")

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Timed repetitions per measurement; the best is reported.")
    var repeats = 5

    @Option(help: "Which kernels to time, comma-separated: sgemm, conv, attention (default: all).")
    var only = "sgemm,conv,attention"

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        let kinds = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        guard kinds.isSubset(of: ["sgemm", "conv", "attention"]) else {
            throw ValidationError("--only: expected some of sgemm, conv, attention, got \(only)")
        }
        var results: [[String: Double]] = []
        Machine.announce()
        print("threads: \(Parallel.threadCount)")
        if kinds.contains("sgemm") {
            let (one, all) = (PeakBenchmark.flops(threads: 1, repeats: repeats), PeakBenchmark.flops(threads: Parallel.threadCount, repeats: repeats))
            print(String(format: "fma peak (%d-lane FMA, no memory)   1 thread %6.1f GFLOP/s   %d threads %6.1f GFLOP/s",
                         Kernels.current.lanes, one / 1e9, Parallel.threadCount, all / 1e9))
            results.append(["peak_gflops_one_thread": one / 1e9, "peak_gflops": all / 1e9])
        }
        for size in [512, 1024, 2048] where kinds.contains("sgemm") {
            results.append(benchmarkSgemm(m: size, n: size, k: size))
        }
        // SD1.5 512x512: the latent is 64x64; each level halves it. The third level at 768x768
        // and 640x640 (24x24, 20x20) and batch 1 place the crossings between the algorithms.
        let shapes = [(320, 64, 2), (640, 32, 2), (1280, 24, 2), (1280, 20, 2), (1280, 16, 2), (1280, 8, 2), (1280, 16, 1), (1280, 8, 1)]
        for (channels, side, batch) in shapes where kinds.contains("conv") {
            results.append(benchmarkConvolution(channels: channels, side: side, batch: batch))
        }
        // Self-attention at SD1.5's first level and SDXL's two attention levels (1024x1024), and
        // SDXL's cross-attention over 77 text tokens; batch 2.
        for (queries, keys, width, heads) in [(4096, 4096, 320, 8), (4096, 4096, 640, 10), (1024, 1024, 1280, 20), (4096, 77, 640, 10)] where kinds.contains("attention") {
            results.append(benchmarkAttention(queries: queries, keys: keys, width: width, heads: heads, batch: 2))
        }
        let json = try JSONSerialization.data(withJSONObject: Machine.fields.merging(["ops": results]) { _, ops in ops }, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    private func benchmarkSgemm(m: Int, n: Int, k: Int) -> [String: Double] {
        let a = Tensor.pseudoRandom([m, k], seed: 1), b = Tensor.pseudoRandom([k, n], seed: 2)
        var c = Tensor(shape: [m, n])
        let flops = 2.0 * Double(m * n * k)
        let core = bestTime(repeats) { _ = a.matmul(b) }
        let direct = bestTime(repeats) {
            c.withUnsafeMutableBufferPointer { out in
                BLAS.sgemm(m: m, n: n, k: k, a: a.storage.pointer, lda: k, b: b.storage.pointer, ldb: n,
                           c: out.baseAddress!, ldc: n)
            }
        }
        let line = String(format: "sgemm %4dx%4dx%4d   tensor core %6.1f GFLOP/s   OpenBLAS direct %6.1f GFLOP/s   ratio %.3f",
                          m, n, k, flops / core / 1e9, flops / direct / 1e9, direct / core)
        print(line)
        return ["m": Double(m), "n": Double(n), "k": Double(k), "core_gflops": flops / core / 1e9,
                "blas_gflops": flops / direct / 1e9]
    }

    private func benchmarkConvolution(channels: Int, side: Int, batch: Int) -> [String: Double] {
        let x = Tensor.pseudoRandom([batch, side, side, channels], seed: 3)
        // Float16 weights, widened per call, as the models hold them (Docs/MODELS.md).
        let halves = Tensor.pseudoRandom([channels, channels, 3, 3], seed: 4).scalars.map(Float16.init)
        let weight = halves.withUnsafeBytes { WeightArray(float16Bytes: $0, shape: [channels, channels, 3, 3]) }
        let winograd = Conv2D(weight: weight, bias: nil, stride: 1, padding: 1, algorithm: .winograd)
        let winograd4x4 = Conv2D(weight: weight, bias: nil, stride: 1, padding: 1, algorithm: .winograd4x4)
        let direct = Conv2D(weight: weight, bias: nil, stride: 1, padding: 1, algorithm: .direct)
        let im2col = Conv2D(weight: weight, bias: nil, stride: 1, padding: 1, algorithm: .patches)
        // The rate counts the direct convolution's multiply-adds for all four, so the figures compare times.
        let flops = 2.0 * Double(batch * side * side * channels * channels * 9)
        let times = [winograd, winograd4x4, direct, im2col].map { conv in bestTime(repeats) { _ = conv(x) } }
        let rates = times.map { flops / $0 / 1e9 }
        print(String(format: "conv3x3 %4d ch %3dx%-3d batch %d   winograd %6.1f   winograd4x4 %6.1f   direct %6.1f   im2col+sgemm %6.1f GFLOP/s (3x3-equivalent)   winograd4x4 vs winograd %.2fx",
                     channels, side, side, batch, rates[0], rates[1], rates[2], rates[3], times[0] / times[1]))
        return ["channels": Double(channels), "side": Double(side), "batch": Double(batch), "winograd_gflops": rates[0],
                "winograd4x4_gflops": rates[1], "direct_gflops": rates[2], "im2col_gflops": rates[3]]
    }
}

extension OpsBenchmark {
    private func benchmarkAttention(queries: Int, keys: Int, width: Int, heads: Int, batch: Int) -> [String: Double] {
        let q = Tensor.pseudoRandom([batch, queries, width], seed: 1)
        let k = Tensor.pseudoRandom([batch, keys, width], seed: 2), v = Tensor.pseudoRandom([batch, keys, width], seed: 3)
        let seconds = bestTime(repeats) { _ = Attention.scaledDotProduct(query: q, key: k, value: v, heads: heads) }
        let rate = 4.0 * Double(batch * queries * keys * width) / seconds / 1e9
        print(String(format: "attention %4d queries x %4d keys  width %4d  %2d heads  batch %d   %7.1f ms   %6.1f GFLOP/s",
                     queries, keys, width, heads, batch, seconds * 1e3, rate))
        return ["queries": Double(queries), "keys": Double(keys), "width": Double(width), "heads": Double(heads),
                "batch": Double(batch), "attention_ms": seconds * 1e3, "attention_gflops": rate]
    }
}

/// The best wall time of `repeats` runs of `body`, after one warm-up run.
func bestTime(_ repeats: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}
