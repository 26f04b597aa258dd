/// The direct convolution kernel: a register-blocked SIMD loop that reads NHWC input rows
/// in place. Each pass computes 6 output pixels x 16 output channels in twelve 8-wide
/// accumulators (the shape of a GEMM micro-kernel, with the im2col gather done by pointers).
extension Conv2D {
    /// Output pixels per register tile.
    static let tilePixels = 6
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
        let cin = inChannels
        var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
        var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var a4 = SIMD8<Float>(), b4 = SIMD8<Float>(), a5 = SIMD8<Float>(), b5 = SIMD8<Float>()
        var w = packed + block * taps * cin * Conv2D.outBlock
        for t in 0..<taps {
            let r = rows + t * Conv2D.tilePixels
            let p0 = r[0], p1 = r[1], p2 = r[2], p3 = r[3], p4 = r[4], p5 = r[5]
            for ci in 0..<cin {
                let lo = load8(w), hi = load8(w + 8)
                w += Conv2D.outBlock
                var v = SIMD8<Float>(repeating: p0[ci])
                a0.addProduct(v, lo); b0.addProduct(v, hi)
                v = SIMD8<Float>(repeating: p1[ci])
                a1.addProduct(v, lo); b1.addProduct(v, hi)
                v = SIMD8<Float>(repeating: p2[ci])
                a2.addProduct(v, lo); b2.addProduct(v, hi)
                v = SIMD8<Float>(repeating: p3[ci])
                a3.addProduct(v, lo); b3.addProduct(v, hi)
                v = SIMD8<Float>(repeating: p4[ci])
                a4.addProduct(v, lo); b4.addProduct(v, hi)
                v = SIMD8<Float>(repeating: p5[ci])
                a5.addProduct(v, lo); b5.addProduct(v, hi)
            }
        }
        let accumulators = [(a0, b0), (a1, b1), (a2, b2), (a3, b3), (a4, b4), (a5, b5)]
        storeTile(accumulators, block: block, output: output, count: count)
    }

    private func storeTile(_ tile: [(SIMD8<Float>, SIMD8<Float>)], block: Int, output: UnsafeMutablePointer<Float>, count: Int) {
        let first = block * Conv2D.outBlock
        let valid = min(Conv2D.outBlock, outChannels - first)
        let biasPointer = bias?.storage.pointer
        for r in 0..<count {
            let (lo, hi) = tile[r]
            let out = output + r * outChannels + first
            for c in 0..<valid {
                out[c] = (c < 8 ? lo[c] : hi[c - 8]) + (biasPointer?[first + c] ?? 0)
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
