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
