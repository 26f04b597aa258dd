import CKernels

/// One instruction set's C kernels (Sources/CKernels). An operation reads `current` once as it
/// starts, on the calling thread, and hands it to its workers, so a whole operation runs one path.
/// Public for the other modules' loops (float16 conversion in DiffusionFormats, LoRA merges,
/// `diffuse-bench`'s peak).
public struct Kernels: @unchecked Sendable {
    /// A table in the C target's static storage.
    let table: UnsafePointer<ckernels_table>

    init(_ isa: ISA) {
        // `ISA.supported` lists only paths this architecture builds, and `ISA` admits no other.
        table = ckernels_table_for(isa.table)!
    }

    /// The kernels of `ISA.current`.
    public static var current: Kernels { Kernels(ISA.current) }

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

    /// `destination[j] = Float(source[j])` for `count` little-endian float16 values at any
    /// alignment, exactly.
    public func widen(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        table.pointee.widen(source, destination, count)
    }

    /// `destination[j] = Float16(source[j])` (rounding to nearest even) for `count` values, written
    /// at any alignment.
    public func narrow(_ source: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int) {
        table.pointee.narrow(source, destination, count)
    }

    /// `destination[j] = a[j] + factor * b[j]` for `count` floats (which may be in place).
    public func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, scaledBy factor: Float, count: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        table.pointee.add_scaled(a, b, factor, count, destination)
    }

    /// `destination[j] = a[j] * b[j]` for `count` floats (which may be in place).
    func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        table.pointee.multiply(a, b, count, destination)
    }

    /// `destination[j] = source[j] * scale[j] + shift[j]` for `count` floats.
    func scaleShift(
        _ source: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, count: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        table.pointee.scale_shift(source, scale, shift, count, destination)
    }

    /// Adds each channel's values over `pixels` rows of `channels` floats to `sums`, and their
    /// squares to `squares`, in double.
    func addChannelSums(
        _ source: UnsafePointer<Float>, pixels: Int, channels: Int, sums: UnsafeMutablePointer<Double>,
        squares: UnsafeMutablePointer<Double>
    ) {
        table.pointee.channel_sums(source, pixels, channels, sums, squares)
    }

    /// torch's LayerNorm of one row of `width` floats.
    func layerNorm(
        _ source: UnsafePointer<Float>, width: Int, epsilon: Float, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        into destination: UnsafeMutablePointer<Float>
    ) {
        table.pointee.layer_norm(source, width, epsilon, gamma, beta, destination)
    }

    /// Output pixels per direct-convolution tile.
    var directRows: Int { table.pointee.direct_rows }
    /// Output channels per direct-convolution tile (16 or 32).
    var directColumns: Int { table.pointee.direct_columns }

    /// One direct-convolution tile (`ckernels_table.direct_tile`): `rows[t * directRows + r]` is
    /// pixel r's input row under tap t; `w` the 16-channel weight panels, `panelStride` apart.
    func directTile(
        _ rows: UnsafePointer<UnsafePointer<Float>>, taps: Int, depth: Int, _ w: UnsafePointer<Float>, panelStride: Int,
        bias: UnsafePointer<Float>?, count: Int, columns: Int, into c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        table.pointee.direct_tile(rows, taps, depth, w, panelStride, bias, count, columns, c, ldc)
    }

    /// Winograd's `G g G^T` for `count` channels (`ckernels_table.winograd_weights`).
    func winogradWeights(
        side: Int, _ g: UnsafePointer<Float>, tapStride: Int, count: Int, into out: UnsafeMutablePointer<Float>,
        positionStride: Int
    ) {
        table.pointee.winograd_weights(side, g, tapStride, count, out, positionStride)
    }

    /// Winograd's `B^T d B` for `count` channels of a patch (nil pixels outside the image).
    func winogradInput(
        side: Int, _ patch: UnsafePointer<UnsafePointer<Float>?>, count: Int, into out: UnsafeMutablePointer<Float>,
        positionStride: Int
    ) {
        table.pointee.winograd_input(side, patch, count, out, positionStride)
    }

    /// Winograd's `A^T m A + bias` for `count` channels, to a tile's `pixels` inside the image.
    func winogradOutput(
        side: Int, _ m: UnsafePointer<Float>, positionStride: Int, bias: UnsafePointer<Float>?, count: Int,
        into out: UnsafeMutablePointer<Float>, _ pixels: TilePixels
    ) {
        table.pointee.winograd_output(
            side, m, positionStride, bias, count, out, pixels.rows, pixels.columns, pixels.rowStride, pixels.pixelStride)
    }

    /// One row of canny's gradient (`ckernels_table.sobel_row`): from interleaved RGB rows above,
    /// at and below it, per pixel the Sobel dx, dy and |dx| + |dy| of the channel of largest norm.
    /// `scratch` holds 3 (width + 2) values.
    public func sobelRow(
        above: UnsafePointer<UInt8>, middle: UnsafePointer<UInt8>, below: UnsafePointer<UInt8>, width: Int,
        scratch: UnsafeMutablePointer<Int16>, magnitude: UnsafeMutablePointer<Int32>, dx: UnsafeMutablePointer<Int16>,
        dy: UnsafeMutablePointer<Int16>
    ) {
        table.pointee.sobel_row(above, middle, below, width, scratch, magnitude, dx, dy)
    }

    /// The path's name ("avx512", ...), floats per vector, and its multiply-add peak probe: twelve
    /// chains of `iterations` dependent vector multiply-adds (returns their sum).
    public var name: String { String(cString: table.pointee.name) }
    public var lanes: Int { table.pointee.lanes }
    public func fmaChains(_ iterations: Int) -> Float { table.pointee.fma_chains(iterations) }
}
