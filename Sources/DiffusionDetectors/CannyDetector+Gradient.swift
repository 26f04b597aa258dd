// Follows OpenCV's canny.cpp: Sobel 3x3 per channel, BORDER_REPLICATE, L1 norm, largest channel.

/// A ring of three rows of Sobel gradients, so non-maximum suppression sees the rows above and
/// below the one it works on. Each slot holds per-pixel `dx`, `dy` and `|dx| + |dy|` of the
/// channel with the largest magnitude (the first channel on a tie), with a zero column on
/// either side so that neighbours past the image edge read as zero magnitude.
final class GradientRows {
    private let source: UnsafePointer<UInt8>
    private let width: Int
    private let height: Int
    private let padded: Int
    private let magnitudes: UnsafeMutablePointer<Int32>
    private let dxs: UnsafeMutablePointer<Int16>
    private let dys: UnsafeMutablePointer<Int16>

    init(source: UnsafePointer<UInt8>, width: Int, height: Int) {
        self.source = source
        self.width = width
        self.height = height
        padded = width + 2
        magnitudes = .allocate(capacity: 3 * padded)
        magnitudes.initialize(repeating: 0, count: 3 * padded)
        dxs = .allocate(capacity: 3 * padded)
        dxs.initialize(repeating: 0, count: 3 * padded)
        dys = .allocate(capacity: 3 * padded)
        dys.initialize(repeating: 0, count: 3 * padded)
    }

    deinit {
        magnitudes.deallocate()
        dxs.deallocate()
        dys.deallocate()
    }

    /// Magnitudes of the row in `slot`; indices -1 and `width` hold zero.
    func magnitude(slot: Int) -> UnsafeMutablePointer<Int32> { magnitudes + slot * padded + 1 }
    func dx(slot: Int) -> UnsafeMutablePointer<Int16> { dxs + slot * padded + 1 }
    func dy(slot: Int) -> UnsafeMutablePointer<Int16> { dys + slot * padded + 1 }

    /// Computes image row `y` into `slot`; a row outside the image is all zero magnitude.
    func load(row y: Int, into slot: Int) {
        let m = magnitude(slot: slot), gx = dx(slot: slot), gy = dy(slot: slot)
        guard y >= 0, y < height else {
            m.update(repeating: 0, count: width)
            return
        }
        // Replicated border: the rows and columns past the edge repeat the edge.
        let above = source + max(y - 1, 0) * width * 3
        let middle = source + y * width * 3
        let below = source + min(y + 1, height - 1) * width * 3
        for x in 0..<width {
            let left = max(x - 1, 0) * 3, right = min(x + 1, width - 1) * 3
            var best: Int32 = -1
            for c in 0..<3 {
                let horizontal = Int32(above[right + c]) + 2 * Int32(middle[right + c]) + Int32(below[right + c])
                    - Int32(above[left + c]) - 2 * Int32(middle[left + c]) - Int32(below[left + c])
                let vertical = Int32(below[left + c]) + 2 * Int32(below[x * 3 + c]) + Int32(below[right + c])
                    - Int32(above[left + c]) - 2 * Int32(above[x * 3 + c]) - Int32(above[right + c])
                let norm = abs(horizontal) + abs(vertical)
                if norm > best {
                    best = norm
                    gx[x] = Int16(horizontal)
                    gy[x] = Int16(vertical)
                }
            }
            m[x] = best
        }
    }
}
