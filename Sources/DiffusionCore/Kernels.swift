import CKernels

/// One instruction set's C kernels (Sources/CKernels). An operation reads `current` once as it
/// starts, on the calling thread, and hands it to its workers, so a whole operation runs one path.
struct Kernels: @unchecked Sendable {
    /// A table in the C target's static storage.
    let table: UnsafePointer<ckernels_table>

    init(_ isa: ISA) {
        // `ISA.supported` lists only paths this architecture builds, and `ISA` admits no other.
        table = ckernels_table_for(isa.table)!
    }

    /// The kernels of `ISA.current`.
    static var current: Kernels { Kernels(ISA.current) }

    /// Rows of the products' register tile.
    var tileRows: Int { table.pointee.tile_rows }

    /// `c[r, j] = alpha * sum_i a[r, i] b[i, j] (+ c[r, j] when accumulating)` for `rows` rows of `a`
    /// and `columns` (a multiple of 16) columns of `b`, which is stored in 16-column panels
    /// (`b[panel][i][0..<16]`, `panelStride` floats apart).
    func panelProduct(
        _ a: UnsafePointer<Float>, lda: Int, rows: Int, _ b: UnsafePointer<Float>, panelStride: Int, depth: Int,
        columns: Int, alpha: Float, accumulating: Bool, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        table.pointee.panel_product(a, lda, rows, b, panelStride, depth, columns, alpha, accumulating, c, ldc)
    }

    /// The largest of `count` values.
    func rowMaximum(_ row: UnsafePointer<Float>, count: Int) -> Float { table.pointee.row_maximum(row, count) }

    /// `row[j] = exp(row[j] - maximum)` in place; returns the sum of the results.
    func exponentiateRow(_ row: UnsafeMutablePointer<Float>, count: Int, maximum: Float) -> Float {
        table.pointee.exponentiate_row(row, count, maximum)
    }

    /// `destination[j] = source[j] * factor` for `count` floats (which may be in place).
    func scale(_ source: UnsafePointer<Float>, by factor: Float, count: Int, into destination: UnsafeMutablePointer<Float>) {
        table.pointee.scale(source, factor, count, destination)
    }

    /// `destination[j] = activation(source[j])` for `count` floats (which may be in place).
    func apply(_ activation: Activation, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        let kind: ckernels_activation = switch activation {
        case .silu: CKERNELS_SILU
        case .geluErf: CKERNELS_GELU_ERF
        case .geluTanh: CKERNELS_GELU_TANH
        case .quickGELU: CKERNELS_QUICK_GELU
        }
        table.pointee.activate(kind, source, destination, count)
    }

    /// `destination[j] = Float(source[j])` for `count` values, exactly.
    func widen(_ source: UnsafePointer<Float16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        UnsafeRawPointer(source).withMemoryRebound(to: UInt16.self, capacity: count) { bits in
            table.pointee.widen(bits, destination, count)
        }
    }
}
