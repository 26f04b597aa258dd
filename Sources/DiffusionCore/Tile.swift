/// The register-blocked micro-kernel of the direct convolution (`Conv2D+Direct.swift`), still in
/// Swift (attention's products run in the C kernels, `Kernels.panelProduct`).
/// A 6-row x 16-column block of a product in twelve 8-lane accumulators, row-major: row r is
/// `(acc.(2r), acc.(2r + 1))` (a homogeneous tuple is laid out contiguously).
struct Tile {
    typealias Vector = SIMD8<Float>
    static let rows = 6, columns = 16
    var acc = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector())

    init() {}

    /// Adds `sum_i row_r[i] b[i, 0..<16]` for i in `0..<depth` to row r, for the six rows `p0`...`p5`
    /// against 16 contiguous columns of `b` (rows `ldb` apart): a matrix product's micro-kernel,
    /// 12 FMAs per step of `i`.
    @inline(__always)
    mutating func accumulate(
        _ p0: UnsafePointer<Float>, _ p1: UnsafePointer<Float>, _ p2: UnsafePointer<Float>, _ p3: UnsafePointer<Float>,
        _ p4: UnsafePointer<Float>, _ p5: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, depth: Int
    ) {
        // The sums run in locals and are written back once: accumulating into `acc` through `self`
        // kept them in memory and halved the direct convolution's speed.
        var (a0, b0, a1, b1, a2, b2) = (acc.0, acc.1, acc.2, acc.3, acc.4, acc.5)
        var (a3, b3, a4, b4, a5, b5) = (acc.6, acc.7, acc.8, acc.9, acc.10, acc.11)
        var w = b
        for i in 0..<depth {
            let lo = load8(w), hi = load8(w + 8)
            w += ldb
            var x = Vector(repeating: p0[i])
            a0.addProduct(x, lo); b0.addProduct(x, hi)
            x = Vector(repeating: p1[i])
            a1.addProduct(x, lo); b1.addProduct(x, hi)
            x = Vector(repeating: p2[i])
            a2.addProduct(x, lo); b2.addProduct(x, hi)
            x = Vector(repeating: p3[i])
            a3.addProduct(x, lo); b3.addProduct(x, hi)
            x = Vector(repeating: p4[i])
            a4.addProduct(x, lo); b4.addProduct(x, hi)
            x = Vector(repeating: p5[i])
            a5.addProduct(x, lo); b5.addProduct(x, hi)
        }
        acc = (a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5)
    }

    /// Writes the first `rows` rows and `columns` columns, times `factor`, plus `bias[column]` when
    /// given, to `c` (rows `ldc` apart).
    @inline(__always)
    func store(
        scaledBy factor: Float, bias: UnsafePointer<Float>? = nil,
        rows: Int, columns: Int, to c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        withUnsafeBytes(of: acc) { raw in
            let values = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            for r in 0..<rows {
                let (source, row) = (values + 16 * r, c + r * ldc)
                if columns == 16 {
                    let (low, high) = bias.map { (load8($0), load8($0 + 8)) } ?? (Vector(), Vector())
                    UnsafeMutableRawPointer(row).storeBytes(of: load8(source) * factor + low, as: Vector.self)
                    UnsafeMutableRawPointer(row + 8).storeBytes(of: load8(source + 8) * factor + high, as: Vector.self)
                } else {
                    for k in 0..<columns { row[k] = source[k] * factor + (bias?[k] ?? 0) }
                }
            }
        }
    }
}

extension SIMD8 where Scalar == Float {
    /// self += a * b, as one fused multiply-add per lane.
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        self = self.addingProduct(a, b)
    }
}
