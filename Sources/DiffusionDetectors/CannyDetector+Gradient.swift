// Follows OpenCV's canny.cpp: Sobel 3x3 per channel, BORDER_REPLICATE, L1 norm, largest channel.
import DiffusionCore

/// A ring of three rows of Sobel gradients, so non-maximum suppression sees the rows above and
/// below the one it works on. Each slot holds per-pixel `dx`, `dy` and `|dx| + |dy|` of the
/// channel with the largest magnitude (the first channel on a tie), with a zero column on
/// either side so that neighbours past the image edge read as zero magnitude. The gradient
/// itself is a C kernel per instruction set (`Kernels.sobelRow`).
final class GradientRows {
    private let source: UnsafePointer<UInt8>
    private let width: Int
    private let height: Int
    private let padded: Int
    private let magnitudes: UnsafeMutablePointer<Int32>
    private let dxs: UnsafeMutablePointer<Int16>
    private let dys: UnsafeMutablePointer<Int16>
    /// The kernel's working rows.
    private let scratch: UnsafeMutablePointer<Int16>
    private let kernels: Kernels

    init(source: UnsafePointer<UInt8>, width: Int, height: Int, kernels: Kernels) {
        self.source = source
        self.kernels = kernels
        self.width = width
        self.height = height
        padded = width + 2
        magnitudes = .allocate(capacity: 3 * padded)
        magnitudes.initialize(repeating: 0, count: 3 * padded)
        dxs = .allocate(capacity: 3 * padded)
        dxs.initialize(repeating: 0, count: 3 * padded)
        dys = .allocate(capacity: 3 * padded)
        dys.initialize(repeating: 0, count: 3 * padded)
        scratch = .allocate(capacity: 3 * padded)
    }

    deinit {
        magnitudes.deallocate()
        dxs.deallocate()
        dys.deallocate()
        scratch.deallocate()
    }

    /// Magnitudes of the row in `slot`; indices -1 and `width` hold zero.
    func magnitude(slot: Int) -> UnsafeMutablePointer<Int32> { magnitudes + slot * padded + 1 }
    func dx(slot: Int) -> UnsafeMutablePointer<Int16> { dxs + slot * padded + 1 }
    func dy(slot: Int) -> UnsafeMutablePointer<Int16> { dys + slot * padded + 1 }

    /// Computes image row `y` into `slot`; a row outside the image is all zero magnitude. Rows
    /// past the top and bottom are replicated.
    func load(row y: Int, into slot: Int) {
        guard y >= 0, y < height else {
            magnitude(slot: slot).update(repeating: 0, count: width)
            return
        }
        let rowBytes = width * 3
        kernels.sobelRow(
            above: source + max(y - 1, 0) * rowBytes, middle: source + y * rowBytes,
            below: source + min(y + 1, height - 1) * rowBytes, width: width, scratch: scratch,
            magnitude: magnitude(slot: slot), dx: dx(slot: slot), dy: dy(slot: slot))
    }
}
