import CKernels
import DiffusionCore
import Foundation
import Testing

/// The C table of a path, read directly: the kernels' own contracts, path by path.
func kernelTable(_ isa: ISA) -> UnsafePointer<ckernels_table>? {
    let index: [ISA: ckernels_isa] = [.generic: CKERNELS_GENERIC, .avx2: CKERNELS_AVX2, .avx512: CKERNELS_AVX512, .neon: CKERNELS_NEON]
    return index[isa].flatMap { ckernels_table_for($0) }
}

@Suite struct KernelsTests {
    /// The panel product against the same sums in double precision: 17 rows (partial tiles of 3, 6
    /// and 14 rows), 48 columns in three panels (AVX-512's 32-column tile and its 16-column one),
    /// a padded panel stride, then accumulated onto the result. Float32 sums of 7 products of
    /// values in [-1, 1): 1e-6 of the largest magnitude.
    @Test(arguments: ISA.supported) func panelProductMatchesADirectSum(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let (rows, depth, columns, lda, panelStride, ldc) = (17, 7, 48, 9, 7 * 16 + 5, 50)
        var generator = SplitMix(seed: 3)
        let a = generator.tensor([rows * lda]).scalars, b = generator.tensor([3 * panelStride]).scalars
        var c = [Float](repeating: 7, count: rows * ldc)
        func bAt(_ i: Int, _ j: Int) -> Double { Double(b[j / 16 * panelStride + i * 16 + j % 16]) }
        func expected(_ r: Int, _ j: Int, alpha: Double) -> Double {
            alpha * (0..<depth).reduce(0.0) { $0 + Double(a[r * lda + $1]) * bAt($1, j) }
        }
        kernels.pointee.panel_product(a, lda, rows, b, panelStride, depth, columns, 0.5, false, &c, ldc)
        let first = c
        kernels.pointee.panel_product(a, lda, rows, b, panelStride, depth, columns, 2, true, &c, ldc)
        var worst = 0.0
        for r in 0..<rows {
            for j in 0..<ldc {
                if j < columns {
                    worst = max(worst, abs(Double(first[r * ldc + j]) - expected(r, j, alpha: 0.5)))
                    worst = max(worst, abs(Double(c[r * ldc + j]) - expected(r, j, alpha: 2.5)))
                } else {
                    // Columns past `columns` are the caller's: untouched.
                    #expect(c[r * ldc + j] == 7)
                }
            }
        }
        #expect(worst <= 1e-6, "\(isa): \(worst)")
    }

    /// e^(x - maximum) in place against Foundation's exp, over the whole range the softmax meets,
    /// with a tail shorter than a vector: within 4 ulp (4.8e-7 relative; the scheme's own bound is
    /// about 2 ulp), zero below -87.3 (e^x is under 1.2e-38 there), and the sum of what it wrote.
    /// The inputs are halves, so shifting them by the maximum is exact.
    @Test(arguments: ISA.supported) func exponentialsMatchFoundation(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let count = 203
        let values = (0..<count).map { Float(-100 + 0.5 * Double($0)) }
        var row = values.map { $0 + 1 }
        let sum = kernels.pointee.exponentiate_row(&row, count, 1)
        for (x, e) in zip(values, row) {
            if x < -87.4 {
                #expect(e == 0, "\(isa): e^\(x) = \(e)")
            } else if x > -87.3 {
                let exact = Foundation.exp(Double(x))
                #expect(abs(Double(e) - exact) <= 4.8e-7 * exact, "\(isa): e^\(x) = \(e), not \(exact)")
            }
        }
        #expect(abs(Double(sum) - row.reduce(0.0) { $0 + Double($1) }) <= 1e-6, "\(isa)")
        #expect(kernels.pointee.row_maximum(values, count) == 1)
        #expect(kernels.pointee.row_maximum([-.infinity, -.infinity, -5], 3) == -5)
        #expect(kernels.pointee.row_maximum([], 0) == -.infinity)
    }
}

/// The kernels that replaced Swift loops built for `-target-cpu haswell` (convolution, Winograd,
/// norms, elementwise, float16 narrowing, canny's gradient), each against a scalar reference, path by path.
@Suite struct ConvolutionKernelsTests {
    /// The direct tile summed over 3 taps of 5 input channels against the same sums in double: a
    /// full tile and a partial one (`count` below the rows), all columns, one short of a panel and
    /// (where the tile spans two panels) a narrow tile of 16 and a partial second panel; with and
    /// without a bias. Sums of 15 products of values in [-1, 1): 1e-6.
    @Test(arguments: ISA.supported) func directTileMatchesADirectSum(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let (rowsPerTile, tileColumns) = (kernels.pointee.direct_rows, kernels.pointee.direct_columns)
        let (taps, depth, panels, ldc) = (3, 5, 2, 40)
        let panelStride = taps * depth * 16 + 3
        var generator = SplitMix(seed: 5)
        let pixels = (0..<taps * rowsPerTile).map { _ in generator.tensor([depth]).scalars }
        let w = generator.tensor([panels * panelStride]).scalars, bias = generator.tensor([32]).scalars
        for count in [rowsPerTile, rowsPerTile - 1] {
            for columns in Set([tileColumns, tileColumns - 1, 16, 15, 21].filter { $0 <= tileColumns }).sorted() {
                for withBias in [true, false] {
                    var c = [Float](repeating: 7, count: rowsPerTile * ldc)
                    withRowPointers(pixels) { rows in
                        bias.withUnsafeBufferPointer { b in
                            kernels.pointee.direct_tile(rows, taps, depth, w, panelStride, withBias ? b.baseAddress : nil, count, columns, &c, ldc)
                        }
                    }
                    var worst = 0.0
                    for r in 0..<rowsPerTile {
                        for j in 0..<ldc {
                            guard r < count && j < columns else {
                                #expect(c[r * ldc + j] == 7, "\(isa): pixel \(r), channel \(j) written")
                                continue
                            }
                            var sum = withBias ? Double(bias[j]) : 0
                            for t in 0..<taps {
                                for i in 0..<depth {
                                    sum += Double(pixels[t * rowsPerTile + r][i]) * Double(w[j / 16 * panelStride + (t * depth + i) * 16 + j % 16])
                                }
                            }
                            worst = max(worst, abs(Double(c[r * ldc + j]) - sum))
                        }
                    }
                    #expect(worst <= 1e-6, "\(isa), count \(count), columns \(columns), bias \(withBias): \(worst)")
                }
            }
        }
    }

    /// Winograd's transforms against their matrices applied in double (Lavin & Gray's G, B^T and
    /// A^T, written out here), on 2 vectors and a tail of channels: the weights' `G g G^T`, the
    /// input's `B^T d B` with pixels outside the image (nil) read as zeros, and the output's
    /// `A^T m A + bias` written only to the pixels inside the image. Each result is a sum of at
    /// most 36 terms with coefficients up to 64 (A^T of F(4x4), twice), rounded a few times in
    /// float32: within 1e-6 of the sum of the terms' magnitudes (8 roundings of 2^-24 would be 5e-7).
    @Test(arguments: ISA.supported, [2, 4]) func winogradTransformsMatchTheirMatrices(_ isa: ISA, side: Int) throws {
        let kernels = try #require(kernelTable(isa))
        let size = side + 2, count = 2 * kernels.pointee.lanes + 3, stride = count + 2
        let (g, bT, aT) = Self.matrices(side: side)
        var generator = SplitMix(seed: UInt64(side))

        let taps = generator.tensor([9 * stride]).scalars
        var u = [Float](repeating: 0, count: size * size * stride)
        kernels.pointee.winograd_weights(side, taps, stride, count, &u, stride)
        // (G g G^T)[a][b] = sum G[a][r] g[r][c] G[b][c].
        var worst = 0.0
        for j in 0..<count {
            for a in 0..<size {
                for b in 0..<size {
                    var sum = 0.0, magnitude = 0.0
                    for r in 0..<3 {
                        for c in 0..<3 {
                            let term = g[a][r] * Double(taps[(r * 3 + c) * stride + j]) * g[b][c]
                            (sum, magnitude) = (sum + term, magnitude + abs(term))
                        }
                    }
                    worst = max(worst, abs(Double(u[(a * size + b) * stride + j]) - sum) / max(magnitude, 1e-30))
                }
            }
        }
        #expect(worst <= 1e-6, "\(isa), F(\(side)x\(side)) weights: \(worst) relative")

        let patch = (0..<size * size).map { _ in generator.tensor([count]).scalars }
        // A corner of the image: the first row and column lie outside.
        let outside = Set((0..<size).map { $0 } + (0..<size).map { $0 * size })
        func pixel(_ k: Int, _ j: Int) -> Double { outside.contains(k) ? 0 : Double(patch[k][j]) }
        var v = [Float](repeating: 0, count: size * size * stride)
        withRowPointers(patch) { pointers in
            var nullable = (0..<size * size).map { outside.contains($0) ? nil : Optional(pointers[$0]) }
            kernels.pointee.winograd_input(side, &nullable, count, &v, stride)
        }
        worst = 0
        for j in 0..<count {
            for a in 0..<size {
                for b in 0..<size {
                    var sum = 0.0, magnitude = 0.0
                    for r in 0..<size {
                        for c in 0..<size {
                            let term = bT[a][r] * pixel(r * size + c, j) * bT[b][c]
                            (sum, magnitude) = (sum + term, magnitude + abs(term))
                        }
                    }
                    worst = max(worst, abs(Double(v[(a * size + b) * stride + j]) - sum) / max(magnitude, 1e-30))
                }
            }
        }
        #expect(worst <= 1e-6, "\(isa), F(\(side)x\(side)) input: \(worst) relative")

        let m = generator.tensor([size * size * stride]).scalars, bias = generator.tensor([count]).scalars
        let (rowStride, pixelStride) = (side * stride + 1, stride)
        for (rows, columns) in [(side, side), (1, side - 1)] {
            var out = [Float](repeating: 7, count: side * rowStride)
            kernels.pointee.winograd_output(side, m, stride, bias, count, &out, rows, columns, rowStride, pixelStride)
            worst = 0
            for r in 0..<side {
                for c in 0..<side {
                    for j in 0..<count {
                        let written = out[r * rowStride + c * pixelStride + j]
                        guard r < rows && c < columns else {
                            #expect(written == 7, "\(isa): pixel (\(r), \(c)) outside the image written")
                            continue
                        }
                        var sum = Double(bias[j]), magnitude = abs(Double(bias[j]))
                        for a in 0..<size {
                            for b in 0..<size {
                                let term = aT[r][a] * Double(m[(a * size + b) * stride + j]) * aT[c][b]
                                (sum, magnitude) = (sum + term, magnitude + abs(term))
                            }
                        }
                        worst = max(worst, abs(Double(written) - sum) / magnitude)
                    }
                }
            }
            #expect(worst <= 1e-6, "\(isa), F(\(side)x\(side)) output, \(rows) x \(columns) pixels: \(worst) relative")
        }
    }

    /// G, B^T and A^T of F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray, 2015).
    static func matrices(side: Int) -> (g: [[Double]], bT: [[Double]], aT: [[Double]]) {
        if side == 2 {
            return ([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
                    [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
                    [[1, 1, 1, 0], [0, 1, -1, -1]])
        }
        return ([[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6], [1.0 / 24, 1.0 / 12, 1.0 / 6],
                 [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]],
                [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0],
                 [0, 4, 0, -5, 0, 1]],
                [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])
    }
}

@Suite struct ElementwiseKernelsTests {
    /// `a + f b`, `a b` and `x s + t` against double arithmetic rounded once, over 2 vectors and a
    /// tail: with an FMA (AVX2, AVX-512) one rounding, without (generic) two, so within 2 ulp of the
    /// largest term (2.4e-7 relative).
    @Test(arguments: ISA.supported) func arithmeticMatchesDoubles(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let count = 2 * kernels.pointee.lanes + 5
        var generator = SplitMix(seed: 17)
        let a = generator.tensor([count]).scalars, b = generator.tensor([count]).scalars, s = generator.tensor([count]).scalars
        func close(_ x: [Float], _ expected: [Double], scale: [Double], _ what: String) {
            let worst = zip(zip(x, expected), scale).map { abs(Double($0.0) - $0.1) / max($1, 1e-30) }.max() ?? 0
            #expect(worst <= 2.4e-7, "\(isa), \(what): \(worst)")
        }
        var out = [Float](repeating: 0, count: count)
        kernels.pointee.add_scaled(a, b, -1.5, count, &out)
        close(out, (0..<count).map { Double(a[$0]) - 1.5 * Double(b[$0]) }, scale: (0..<count).map { abs(Double(a[$0])) + 1.5 * abs(Double(b[$0])) }, "a + f b")
        kernels.pointee.multiply(a, b, count, &out)
        close(out, (0..<count).map { Double(a[$0]) * Double(b[$0]) }, scale: (0..<count).map { abs(Double(a[$0]) * Double(b[$0])) }, "a b")
        kernels.pointee.scale_shift(a, s, b, count, &out)
        close(out, (0..<count).map { Double(a[$0]) * Double(s[$0]) + Double(b[$0]) },
              scale: (0..<count).map { abs(Double(a[$0]) * Double(s[$0])) + abs(Double(b[$0])) }, "x s + t")
        // In place, as the residual adds run.
        var inPlace = a
        kernels.pointee.add_scaled(inPlace, b, 1, count, &inPlace)
        #expect(inPlace == (0..<count).map { a[$0] + b[$0] }, "\(isa)")
    }

    /// Float32 to float16 bit for bit as Swift's `Float16(_:)` rounds (to nearest even): ties both
    /// ways, the overflow to infinity, subnormals, signed zero, infinity and NaN, over a vector
    /// and a tail; written at an odd byte offset (a safetensors file's data need not be aligned).
    @Test(arguments: ISA.supported) func narrowsAsSwiftRounds(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        var values: [Float] = [1, 1 + 1.0 / 2048, 1 + 3.0 / 2048, 65504, 65519, 65520, 1e-7, 3e-8, -0.0, .infinity, -.infinity]
        var generator = SplitMix(seed: 23)
        values += (0..<2 * kernels.pointee.lanes).map { _ in generator.nextFloat() * 1000 }
        var bytes = [UInt8](repeating: 0, count: 2 * values.count + 1)
        bytes.withUnsafeMutableBytes { kernels.pointee.narrow(values, $0.baseAddress! + 1, values.count) }
        let halves = (0..<values.count).map { UInt16(bytes[1 + 2 * $0]) | UInt16(bytes[2 + 2 * $0]) << 8 }
        #expect(halves == values.map { Float16($0).bitPattern }, "\(isa)")
        var nan: UInt16 = 0
        kernels.pointee.narrow([Float.nan], &nan, 1)
        #expect(Float16(bitPattern: nan).isNaN, "\(isa)")
    }

    /// Per-channel sums and squares in double, bit for bit as a sequential double loop (the kernel
    /// adds each channel's pixels in order), onto sums already there; 37 channels: 2 vectors
    /// (at 16 lanes) and a tail.
    @Test(arguments: ISA.supported) func channelSumsAreDoubleSums(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let (pixels, channels) = (9, 37)
        var generator = SplitMix(seed: 29)
        let x = generator.tensor([pixels * channels]) { 100 * $0 }.scalars
        var sums = [Double](repeating: 0.25, count: channels), squares = sums
        kernels.pointee.channel_sums(x, pixels, channels, &sums, &squares)
        var (expectedSums, expectedSquares) = ([Double](repeating: 0.25, count: channels), [Double](repeating: 0.25, count: channels))
        for p in 0..<pixels {
            for c in 0..<channels {
                let v = Double(x[p * channels + c])
                expectedSums[c] += v
                expectedSquares[c] += v * v
            }
        }
        #expect(sums == expectedSums && squares == expectedSquares, "\(isa)")
    }

    /// LayerNorm of rows of 5 and 45 values around 10, with and without a bias, against the
    /// formula in double. The kernel subtracts the mean rounded to float32 (as torch does), off by
    /// up to 4.8e-7 (half an ulp of 10), which the division by a standard deviation near 0.58 makes
    /// 8.2e-7; with the few roundings after it, 2e-6.
    @Test(arguments: ISA.supported, [5, 45]) func layerNormMatchesTheFormula(_ isa: ISA, width: Int) throws {
        let kernels = try #require(kernelTable(isa))
        var generator = SplitMix(seed: UInt64(width))
        let x = generator.tensor([width]) { 10 + $0 }.scalars, gamma = generator.tensor([width]).scalars
        let beta = generator.tensor([width]).scalars
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(width)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(width)
        for withBias in [true, false] {
            var out = [Float](repeating: 0, count: width)
            beta.withUnsafeBufferPointer { b in kernels.pointee.layer_norm(x, width, 1e-5, gamma, withBias ? b.baseAddress : nil, &out) }
            let worst = (0..<width).map { j in
                abs(Double(out[j]) - ((Double(x[j]) - mean) / (variance + 1e-5).squareRoot() * Double(gamma[j]) + (withBias ? Double(beta[j]) : 0)))
            }.max()!
            #expect(worst <= 2e-6, "\(isa), width \(width), bias \(withBias): \(worst)")
        }
    }

    /// The peak probe computes what it claims: 12 x lanes chains of `a = a m + c` (m = 0.999999,
    /// c = 1e-6), chain i from m - i c, summed; after 1000 steps the mean is within 1e-4 of its
    /// double value (1000 float32 roundings near 1, of 6e-8 each, drift by at most 6e-5).
    @Test(arguments: ISA.supported) func fmaChainsComputeTheirRecurrence(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let chains = 12 * kernels.pointee.lanes
        let (m, c) = (Double(Float(0.999999)), Double(Float(1e-6)))
        let expected = (0..<chains).map { i in
            var a = m - Double(i) * c
            for _ in 0..<1000 { a = a * m + c }
            return a
        }.reduce(0, +) / Double(chains)
        #expect(abs(Double(kernels.pointee.fma_chains(1000)) / Double(chains) - expected) <= 1e-4, "\(isa)")
    }
}

@Suite struct GradientKernelTests {
    /// Canny's gradient row against OpenCV's definition evaluated pixel by pixel: Sobel 3x3 per
    /// channel with the columns past the edges replicated, |dx| + |dy|, the first channel of
    /// largest norm. 37 pixels (a vector of 32 int16 at AVX-512's width, and a tail); every third
    /// pixel has three equal channels, so ties pick the first. Integer arithmetic: exact.
    @Test(arguments: ISA.supported) func sobelRowMatchesTheDefinition(_ isa: ISA) throws {
        let kernels = try #require(kernelTable(isa))
        let width = 37
        var generator = SplitMix(seed: 31)
        func row() -> [UInt8] {
            (0..<width).flatMap { x -> [UInt8] in
                let v = (0..<3).map { _ in UInt8(Float(255) * (generator.nextFloat() + 1) / 2) }
                return x % 3 == 0 ? [v[0], v[0], v[0]] : v
            }
        }
        let rows = [row(), row(), row()]
        var scratch = [Int16](repeating: 0, count: 3 * (width + 2))
        var magnitude = [Int32](repeating: -1, count: width), dx = [Int16](repeating: 0, count: width), dy = dx
        kernels.pointee.sobel_row(rows[0], rows[1], rows[2], width, &scratch, &magnitude, &dx, &dy)
        func at(_ r: Int, _ x: Int, _ c: Int) -> Int { Int(rows[r][3 * min(max(x, 0), width - 1) + c]) }
        for x in 0..<width {
            var best = (norm: -1, dx: 0, dy: 0)
            for c in 0..<3 {
                let gx = (0..<3).reduce(0) { $0 + [1, 2, 1][$1] * (at($1, x + 1, c) - at($1, x - 1, c)) }
                let gy = (-1...1).reduce(0) { $0 + [1, 2, 1][$1 + 1] * (at(2, x + $1, c) - at(0, x + $1, c)) }
                if abs(gx) + abs(gy) > best.norm { best = (abs(gx) + abs(gy), gx, gy) }
            }
            #expect(Int(magnitude[x]) == best.norm && Int(dx[x]) == best.dx && Int(dy[x]) == best.dy, "\(isa), pixel \(x)")
        }
    }
}

/// Calls `body` with pointers to each of `rows`' storage, valid for the call.
func withRowPointers<R>(_ rows: [[Float]], _ body: (UnsafePointer<UnsafePointer<Float>>) throws -> R) rethrows -> R {
    let copies = rows.map { row -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, row.count))
        p.initialize(from: row, count: row.count)
        return p
    }
    defer { copies.forEach { $0.deallocate() } }
    let pointers = copies.map { UnsafePointer($0) }
    return try pointers.withUnsafeBufferPointer { try body($0.baseAddress!) }
}
