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
    /// One plane per channel (`plane(c)` below), each `padded` long with a replicated pixel on
    /// either side: `above + 2 middle + below` (smoothing across rows, for dx) and
    /// `below - above` (differencing across rows, for dy).
    private let smoothed: UnsafeMutablePointer<Int16>
    private let differenced: UnsafeMutablePointer<Int16>
    /// One plane per channel, `width` long: the Sobel derivatives of each channel of the row
    /// being loaded, and their L1 norm.
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
        for c in 0..<3 { filterColumns(channel: c) }
        keepLargestChannel(into: slot)
    }

    /// The Sobel kernels are separable: [1 2 1] across rows then [-1 0 1] along the row for dx,
    /// [-1 0 1] across rows then [1 2 1] along the row for dy. This is the across-rows half,
    /// with rows past the top and bottom replicated, splitting the interleaved channels into
    /// planes so that the rest runs on contiguous values.
    ///
    /// Sums stay within +-2040, so Int16 wrapping arithmetic (which lets the loops
    /// vectorize) is exact.
    private func filterRows(_ y: Int) {
        let rowBytes = width * 3
        let above = source + max(y - 1, 0) * rowBytes
        let middle = source + y * rowBytes
        let below = source + min(y + 1, height - 1) * rowBytes
        for c in 0..<3 {
            let s = smoothed + c * padded + 1, d = differenced + c * padded + 1
            for x in 0..<width {
                let a = Int16(above[3 * x + c]), m = Int16(middle[3 * x + c]), b = Int16(below[3 * x + c])
                s[x] = a &+ 2 &* m &+ b
                d[x] = b &- a
            }
            // Replicated columns: the pixel before the first and after the last repeat them.
            s[-1] = s[0]
            d[-1] = d[0]
            s[width] = s[width - 1]
            d[width] = d[width - 1]
        }
    }

    /// The along-the-row half, for one channel's plane.
    private func filterColumns(channel c: Int) {
        let s = smoothed + c * padded + 1, d = differenced + c * padded + 1
        let gxs = channelDx + c * width, gys = channelDy + c * width, norms = channelNorm + c * width
        for x in 0..<width {
            let gx = s[x + 1] &- s[x - 1], gy = d[x - 1] &+ 2 &* d[x] &+ d[x + 1]
            gxs[x] = gx
            gys[x] = gy
            norms[x] = absolute(gx) &+ absolute(gy)
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
    /// Which channel wins is unpredictable, so this selects with vector masks, 16 pixels at a
    /// time (the compiler turns the scalar form into branches), then finishes the row scalar.
    private func keepLargestChannel(into slot: Int) {
        let m = magnitude(slot: slot), gx = dx(slot: slot), gy = dy(slot: slot)
        let lanes = SIMD16<Int16>.scalarCount
        var x = 0
        while x + lanes <= width {
            let n0 = vector(channelNorm, x), n1 = vector(channelNorm + width, x)
            let n2 = vector(channelNorm + 2 * width, x)
            let second = n1 .> n0, third = n2 .> n0.replacing(with: n1, where: second)
            var norm = n0, gxv = vector(channelDx, x), gyv = vector(channelDy, x)
            norm.replace(with: n1, where: second)
            gxv.replace(with: vector(channelDx + width, x), where: second)
            gyv.replace(with: vector(channelDy + width, x), where: second)
            norm.replace(with: n2, where: third)
            gxv.replace(with: vector(channelDx + 2 * width, x), where: third)
            gyv.replace(with: vector(channelDy + 2 * width, x), where: third)
            UnsafeMutableRawPointer(m + x).storeBytes(of: SIMD16<Int32>(truncatingIfNeeded: norm), as: SIMD16<Int32>.self)
            UnsafeMutableRawPointer(gx + x).storeBytes(of: gxv, as: SIMD16<Int16>.self)
            UnsafeMutableRawPointer(gy + x).storeBytes(of: gyv, as: SIMD16<Int16>.self)
            x += lanes
        }
        for x in x..<width {
            var best = x
            if channelNorm[width + x] > channelNorm[best] { best = width + x }
            if channelNorm[2 * width + x] > channelNorm[best] { best = 2 * width + x }
            m[x] = Int32(channelNorm[best])
            gx[x] = channelDx[best]
            gy[x] = channelDy[best]
        }
    }

    @inline(__always)
    private func vector(_ plane: UnsafeMutablePointer<Int16>, _ x: Int) -> SIMD16<Int16> {
        UnsafeRawPointer(plane + x).loadUnaligned(as: SIMD16<Int16>.self)
    }
}
