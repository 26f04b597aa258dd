/// The direct convolution: a register-blocked kernel that reads NHWC input rows in place. Each
/// pass computes one tile of output pixels x output channels (`Kernels.directTile`: 6 x 16 on
/// AVX2, 8 x 32 on AVX-512), the shape of a GEMM micro-kernel with the im2col gather done by
/// pointers: per kernel tap, each pixel's input row, or a zero row in the padding.
extension Conv2D {
    /// Tiles per unit of parallel work: enough pixels that a weight block is reused from
    /// cache, few enough that the input rows they read stay in L2.
    static let tilesPerGroup = 16

    func direct(_ x: Tensor, packed: UnsafePointer<Float>, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (oh, ow) = (y.shape[1], y.shape[2])
        let kernels = Kernels.current
        let (tilePixels, tileChannels) = (kernels.directRows, kernels.directColumns)
        let pixels = batch * oh * ow
        let tiles = (pixels + tilePixels - 1) / tilePixels
        let groups = (tiles + Conv2D.tilesPerGroup - 1) / Conv2D.tilesPerGroup
        let taps = kernelHeight * kernelWidth
        // One 16-channel block of the packed weights: every tap's `[in, 16]` matrix.
        let panelStride = taps * inChannels * Conv2D.outBlock
        let zeros = [Float](repeating: 0, count: inChannels)
        let input = x.storage.pointer, output = y.storage.pointer, biasPointer = bias?.storage.pointer
        zeros.withUnsafeBufferPointer { zeroRow in
            Parallel.forEach(groups) { group in
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: taps * tilePixels) { buffer in
                    let rows = buffer.baseAddress!
                    let firstTile = group * Conv2D.tilesPerGroup
                    for block in Swift.stride(from: 0, to: outChannels, by: tileChannels) {
                        for tile in firstTile..<min(tiles, firstTile + Conv2D.tilesPerGroup) {
                            let first = tile * tilePixels
                            let count = min(tilePixels, pixels - first)
                            // Pixels past the last repeat it (read, never written), so every tile has one shape.
                            for r in 0..<tilePixels {
                                let p = first + min(r, count - 1)
                                let (n, oy, ox) = (p / (oh * ow), p / ow % oh, p % ow)
                                gatherRows(rows + r, spacing: tilePixels, image: input + n * height * width * inChannels,
                                           height: height, width: width, oy: oy, ox: ox, zeroRow: zeroRow.baseAddress!)
                            }
                            kernels.directTile(
                                rows, taps: taps, depth: inChannels, packed + block / Conv2D.outBlock * panelStride,
                                panelStride: panelStride, bias: biasPointer.map { $0 + block }, count: count,
                                columns: min(tileChannels, outChannels - block), into: output + first * outChannels + block,
                                ldc: outChannels)
                        }
                    }
                }
            }
        }
    }

    /// For each kernel tap, the input row under output pixel (oy, ox), or the zero row in the padding.
    /// Rows are written `spacing` apart, so tap t of pixel r lands at `rows[t * spacing + r]`.
    @inline(__always)
    private func gatherRows(
        _ rows: UnsafeMutablePointer<UnsafePointer<Float>>, spacing: Int, image: UnsafePointer<Float>,
        height: Int, width: Int, oy: Int, ox: Int, zeroRow: UnsafePointer<Float>
    ) {
        for ky in 0..<kernelHeight {
            let iy = oy * stride - padding + ky
            for kx in 0..<kernelWidth {
                let ix = ox * stride - padding + kx
                let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                rows[(ky * kernelWidth + kx) * spacing] = inside ? image + (iy * width + ix) * inChannels : zeroRow
            }
        }
    }
}
