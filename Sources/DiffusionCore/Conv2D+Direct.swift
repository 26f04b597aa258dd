/// The direct convolution kernel: a register-blocked SIMD loop that reads NHWC input rows
/// in place. Each pass computes 6 output pixels x 16 output channels in twelve 8-wide
/// accumulators (the shape of a GEMM micro-kernel, with the im2col gather done by pointers).
extension Conv2D {
    /// Output pixels per register tile.
    static let tilePixels = Tile.rows
    /// Tiles per unit of parallel work: enough pixels that a weight block is reused from
    /// cache, few enough that the input rows they read stay in L2.
    static let tilesPerGroup = 16

    func direct(_ x: Tensor, packed: UnsafePointer<Float>, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (oh, ow) = (y.shape[1], y.shape[2])
        let pixels = batch * oh * ow
        let tiles = (pixels + Conv2D.tilePixels - 1) / Conv2D.tilePixels
        let groups = (tiles + Conv2D.tilesPerGroup - 1) / Conv2D.tilesPerGroup
        let zeros = [Float](repeating: 0, count: inChannels)
        let input = x.storage.pointer, output = y.storage.pointer
        zeros.withUnsafeBufferPointer { zeroRow in
            Parallel.forEach(groups) { group in
                let taps = kernelHeight * kernelWidth
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps * Conv2D.tilePixels) { rows in
                    let firstTile = group * Conv2D.tilesPerGroup
                    for block in 0..<(outChannels + Conv2D.outBlock - 1) / Conv2D.outBlock {
                        for tile in firstTile..<min(tiles, firstTile + Conv2D.tilesPerGroup) {
                            let first = tile * Conv2D.tilePixels
                            let count = min(Conv2D.tilePixels, pixels - first)
                            for r in 0..<Conv2D.tilePixels {
                                let p = first + min(r, count - 1)
                                let (n, oy, ox) = (p / (oh * ow), p / ow % oh, p % ow)
                                gatherRows(rows.baseAddress! + r, image: input + n * height * width * inChannels,
                                           height: height, width: width, oy: oy, ox: ox, zeroRow: zeroRow.baseAddress!)
                            }
                            computeTile(rows.baseAddress!, packed: packed, block: block, output: output + first * outChannels, count: count)
                        }
                    }
                }
            }
        }
    }

    /// For each kernel tap, the input row under output pixel (oy, ox), or the zero row in the padding.
    /// Rows are written `tilePixels` apart, so tap t of pixel r lands at `rows[t * tilePixels + r]`.
    @inline(__always)
    private func gatherRows(
        _ rows: UnsafeMutablePointer<UnsafePointer<Float>>, image: UnsafePointer<Float>,
        height: Int, width: Int, oy: Int, ox: Int, zeroRow: UnsafePointer<Float>
    ) {
        for ky in 0..<kernelHeight {
            let iy = oy * stride - padding + ky
            for kx in 0..<kernelWidth {
                let ix = ox * stride - padding + kx
                let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                rows[(ky * kernelWidth + kx) * Conv2D.tilePixels] = inside ? image + (iy * width + ix) * inChannels : zeroRow
            }
        }
    }

    /// Accumulates one 6-pixel x 16-channel tile over every tap and input channel, adds the
    /// bias and stores the `count` valid pixels and the valid channels of `block`.
    @inline(__always)
    private func computeTile(
        _ rows: UnsafePointer<UnsafePointer<Float>>, packed: UnsafePointer<Float>, block: Int,
        output: UnsafeMutablePointer<Float>, count: Int
    ) {
        let taps = kernelHeight * kernelWidth
        var tile = Tile()
        var w = packed + block * taps * inChannels * Conv2D.outBlock
        for t in 0..<taps {
            let r = rows + t * Conv2D.tilePixels
            tile.accumulate(r[0], r[1], r[2], r[3], r[4], r[5], w, ldb: Conv2D.outBlock, depth: inChannels)
            w += inChannels * Conv2D.outBlock
        }
        let first = block * Conv2D.outBlock
        tile.store(scaledBy: 1, bias: bias.map { $0.storage.pointer + first }, rows: count,
                   columns: min(Conv2D.outBlock, outChannels - first), to: output + first, ldc: outChannels)
    }
}
