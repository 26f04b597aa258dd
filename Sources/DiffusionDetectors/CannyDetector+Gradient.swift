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
    /// Per channel value, with one replicated pixel on either side: `above + 2 middle + below`
    /// (smoothing across rows, for dx) and `below - above` (differencing across rows, for dy).
    private let smoothed: UnsafeMutablePointer<Int16>
    private let differenced: UnsafeMutablePointer<Int16>
    /// Per channel value: the Sobel derivatives of every channel of the row being loaded,
    /// and their L1 norm.
    private let channelDx: UnsafeMutablePointer<Int16>
    private let channelDy: UnsafeMutablePointer<Int16>
    private let channelNorm: UnsafeMutablePointer<Int16>

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
        smoothed = .allocate(capacity: 3 * padded)
        differenced = .allocate(capacity: 3 * padded)
        channelDx = .allocate(capacity: 3 * width)
        channelDy = .allocate(capacity: 3 * width)
        channelNorm = .allocate(capacity: 3 * width)
    }

    deinit {
        magnitudes.deallocate()
        dxs.deallocate()
        dys.deallocate()
        smoothed.deallocate()
        differenced.deallocate()
        channelDx.deallocate()
        channelDy.deallocate()
        channelNorm.deallocate()
    }

    /// Magnitudes of the row in `slot`; indices -1 and `width` hold zero.
    func magnitude(slot: Int) -> UnsafeMutablePointer<Int32> { magnitudes + slot * padded + 1 }
    func dx(slot: Int) -> UnsafeMutablePointer<Int16> { dxs + slot * padded + 1 }
    func dy(slot: Int) -> UnsafeMutablePointer<Int16> { dys + slot * padded + 1 }

    /// Computes image row `y` into `slot`; a row outside the image is all zero magnitude.
    func load(row y: Int, into slot: Int) {
        guard y >= 0, y < height else {
            magnitude(slot: slot).update(repeating: 0, count: width)
            return
        }
        filterRows(y)
        filterColumns()
        keepLargestChannel(into: slot)
    }

    /// The Sobel kernels are separable: [1 2 1] across rows then [-1 0 1] along the row for dx,
    /// [-1 0 1] across rows then [1 2 1] along the row for dy. This is the across-rows half,
    /// with rows past the top and bottom replicated.
    ///
    /// Sums stay within +-2040, so Int16 wrapping arithmetic (which lets the loops
    /// vectorize) is exact.
    private func filterRows(_ y: Int) {
        let rowBytes = width * 3
        let above = source + max(y - 1, 0) * rowBytes
        let middle = source + y * rowBytes
        let below = source + min(y + 1, height - 1) * rowBytes
        let s = smoothed + 3, d = differenced + 3
        for k in 0..<rowBytes {
            let a = Int16(above[k]), m = Int16(middle[k]), b = Int16(below[k])
            s[k] = a &+ 2 &* m &+ b
            d[k] = b &- a
        }
        // Replicated columns: the pixel before the first and after the last repeat them.
        for c in 0..<3 {
            smoothed[c] = s[c]
            differenced[c] = d[c]
            s[rowBytes + c] = s[rowBytes - 3 + c]
            d[rowBytes + c] = d[rowBytes - 3 + c]
        }
    }

    /// The along-the-row half; the same channel of the neighbouring pixels is 3 values away.
    private func filterColumns() {
        let s = smoothed + 3, d = differenced + 3
        for k in 0..<width * 3 {
            let gx = s[k + 3] &- s[k - 3], gy = d[k - 3] &+ 2 &* d[k] &+ d[k + 3]
            channelDx[k] = gx
            channelDy[k] = gy
            channelNorm[k] = absolute(gx) &+ absolute(gy)
        }
    }

    /// |value| without the overflow trap of `abs`, which blocks vectorization; the Sobel
    /// values are far from Int16.min.
    @inline(__always)
    private func absolute(_ value: Int16) -> Int16 {
        let sign = value >> 15
        return (value ^ sign) &- sign
    }

    /// Per pixel, the channel of largest `|dx| + |dy|`; on a tie the first, as OpenCV's strict `>`.
    /// Written as selects rather than branches: which channel wins is unpredictable.
    private func keepLargestChannel(into slot: Int) {
        let m = magnitude(slot: slot), gx = dx(slot: slot), gy = dy(slot: slot)
        for x in 0..<width {
            let k = 3 * x
            let n0 = channelNorm[k], n1 = channelNorm[k + 1], n2 = channelNorm[k + 2]
            let first = n1 > n0 ? 1 : 0
            let firstNorm = max(n0, n1)
            let best = n2 > firstNorm ? 2 : first
            m[x] = Int32(max(firstNorm, n2))
            gx[x] = channelDx[k + best]
            gy[x] = channelDy[k + best]
        }
    }
}
