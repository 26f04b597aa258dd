/// Winograd's F(2x2, 3x3) and F(4x4, 3x3) for 3x3, stride-1, padding-1 convolutions (Lavin &
/// Gray, "Fast Algorithms for Convolutional Neural Networks", 2015; the schemes NNPACK and oneDNN ship).
///
/// Each m x m output tile is `A^T [(G g G^T) . (B^T d B)] A` for its (m + 2) x (m + 2) input
/// patch d: the 9 multiplications per output pixel and channel pair become (m + 2)^2 / m^2 (4 for
/// F(2x2), 2.25 for F(4x4)), done as (m + 2)^2 matrix products `[tiles, in] x [in, out]` through
/// BLAS. The transforms and their matrices are C kernels run on whole channel vectors (NHWC), per
/// instruction set (`Kernels.winogradInput` and its two siblings, Sources/CKernels/winograd.h);
/// this file is the driver: the tiles or the weights, whichever outweigh the other, go in pieces
/// (`winogradBlocking`). The weights'
/// transform `G g G^T` runs per call too, from the tap-major weights in their stored precision:
/// keeping the transformed matrices instead would hold 16/9 (F(2x2)) or 4 (F(4x4)) times the
/// float32 weights.
extension Conv2D {
    /// When the tiles outweigh the weights: the most floats the transformed input and products
    /// hold per chunk of tiles (16 MB each). The weights are then transformed whole, positions x
    /// in x out floats (59 MB for F(4x4) at 640 channels).
    static let winogradChunkFloats = 1 << 22
    /// When the weights outweigh the tiles: the most floats of transformed weights held at once
    /// (32 MB, what the L3 cache holds). The tiles then go in one chunk, positions x tiles x in
    /// floats, at most positions x in x out x in / (in + out): half the transformed weights when
    /// in = out (24 MB for F(4x4) at 1280 channels on 32x32 at batch 2).
    static let winogradWeightFloats = 1 << 23

    /// Tiles below which F(2x2)'s per-call weight transform costs more than its fewer
    /// multiplications save, so a chosen (not forced) Winograd layer runs `patches` instead.
    static let winogradMinimumTiles = 64
    /// Tiles below which F(4x4) loses to F(2x2): its weight transform writes 36 `[in, out]`
    /// matrices, not 16, and its products have a quarter of the rows, so it pays only on the
    /// tiles that share them.
    static let winograd4x4MinimumTiles = 96

    /// What a chosen Winograd layer runs on `x`: the largest tiles that pay. Both costs grow with
    /// in x out, so the crossings are tile counts. `diffuse-bench ops --only conv` (09:03-09:05
    /// UTC, four runs), F(4x4) against F(2x2): 1280 channels, 32 tiles of 4x4 (16x16, batch 2)
    /// 0.60-0.98x; 50 tiles (20x20) 0.81-1.00x; 72 tiles (24x24, two runs) 0.97-1.10x; 640
    /// channels, 128 tiles (32x32) 1.20-1.43x: the threshold sits between the tie and the clear win. F(2x2)
    /// against patches on 32 tiles of 2x2 (8x8, batch 2) won some runs and lost others, on 16
    /// (batch 1) lost, on 64 (16x16, batch 1) won.
    func winogradAlgorithm(for x: Tensor) -> Algorithm {
        func tiles(_ side: Int) -> Int { x.shape[0] * ((x.shape[1] + side - 1) / side) * ((x.shape[2] + side - 1) / side) }
        if tiles(4) >= Conv2D.winograd4x4MinimumTiles { return .winograd4x4 }
        return tiles(2) >= Conv2D.winogradMinimumTiles ? .winograd : .patches
    }

    /// F(side x side, 3x3), side 2 or 4: (side + 2)^2 products per tile.
    func winograd(_ x: Tensor, side: Int, into y: inout Tensor) {
        let geometry = TileGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], side: side)
        let tiles = geometry.count, positions = (side + 2) * (side + 2)
        let kernels = Kernels.current
        let (chunk, block) = winogradBlocking(tiles: tiles, positions: positions)
        let blocks = Swift.stride(from: 0, to: inChannels, by: block).map { $0..<min(inChannels, $0 + block) }
        ScratchPool.withFloats(positions * block * outChannels) { u in
            if blocks.count == 1 { transformWeights(blocks[0], side: side, kernels, into: u) }
            ScratchPool.withFloats(positions * chunk * inChannels) { v in
                ScratchPool.withFloats(positions * chunk * outChannels) { m in
                    for first in Swift.stride(from: 0, to: tiles, by: chunk) {
                        let count = min(chunk, tiles - first)
                        transformInput(x, geometry, kernels, tiles: first..<first + count, into: v, stride: chunk)
                        for channels in blocks {
                            if blocks.count > 1 { transformWeights(channels, side: side, kernels, into: u) }
                            multiply(v, u, channels, positions: positions, into: m, tiles: count, stride: chunk)
                        }
                        transformOutput(m, geometry, kernels, tiles: first..<first + count, stride: chunk, into: &y)
                    }
                }
            }
        }
    }

    /// Tiles per chunk, and input channels per block of transformed weights. When the weights
    /// outweigh the tiles (deep, low-resolution layers) all tiles go in one chunk and the weights
    /// are transformed a block of input channels at a time, each block used while it is in cache;
    /// otherwise the tiles go in chunks of equal size (a short last chunk would multiply at a low
    /// rate) and the weights are transformed once, whole.
    private func winogradBlocking(tiles: Int, positions: Int) -> (chunk: Int, block: Int) {
        let (cin, cout) = (inChannels, outChannels)
        guard tiles * (cin + cout) <= cin * cout else {
            let chunks = (tiles - 1) / max(1, Conv2D.winogradChunkFloats / (positions * max(cin, cout))) + 1
            return ((tiles - 1) / chunks + 1, cin)
        }
        return (tiles, min(cin, max(8, Conv2D.winogradWeightFloats / (positions * cout) / 8 * 8)))
    }

    /// `G g G^T` for the (in, out) pairs of input channels `channels` into `u`, one matrix
    /// `[channels.count, out]` per position; vectors run along `out`.
    private func transformWeights(_ channels: Range<Int>, side: Int, _ kernels: Kernels, into u: UnsafeMutablePointer<Float>) {
        let (cin, cout) = (inChannels, outChannels)
        let positionStride = channels.count * cout
        Parallel.forEachRange(channels.count, minimumPerThread: 8) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 9 * cout) { buffer in
                let g = buffer.baseAddress!
                for local in range {
                    let ci = channels.lowerBound + local
                    for tap in 0..<9 {
                        let row = (tap * cin + ci) * cout
                        weights.copyFloat32(row..<row + cout, into: g + tap * cout)
                    }
                    kernels.winogradWeights(side: side, g, tapStride: cout, count: cout, into: u + local * cout,
                                            positionStride: positionStride)
                }
            }
        }
    }

    /// Where tile t of the image sits.
    struct TileGeometry {
        let height, width, side, tilesHigh, tilesWide, count: Int

        init(batch: Int, height: Int, width: Int, side: Int) {
            (self.height, self.width, self.side) = (height, width, side)
            (tilesHigh, tilesWide) = ((height + side - 1) / side, (width + side - 1) / side)
            count = batch * tilesHigh * tilesWide
        }

        /// Image n, and the top-left output pixel of tile `t`.
        func origin(_ t: Int) -> (n: Int, y: Int, x: Int) {
            let perImage = tilesHigh * tilesWide
            return (t / perImage, side * (t % perImage / tilesWide), side * (t % tilesWide))
        }
    }

    /// `B^T d B` for every channel of each tile's patch (rows and columns from -1, zero outside),
    /// into `v[position][tile][in]`, `stride` tiles per position.
    private func transformInput(
        _ x: Tensor, _ g: TileGeometry, _ kernels: Kernels, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let cin = inChannels, src = x.storage.pointer, patchSide = g.side + 2
        Parallel.forEachRange(tiles.count, minimumPerThread: 8) { range in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: patchSide * patchSide) { buffer in
                let patch = buffer.baseAddress!
                for local in range {
                    let (n, oy, ox) = g.origin(tiles.lowerBound + local)
                    for r in 0..<patchSide {
                        for c in 0..<patchSide {
                            let (iy, ix) = (oy - 1 + r, ox - 1 + c)
                            let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                            patch[r * patchSide + c] = inside ? UnsafePointer(src + ((n * g.height + iy) * g.width + ix) * cin) : nil
                        }
                    }
                    kernels.winogradInput(side: g.side, patch, count: cin, into: v + local * cin, positionStride: stride * cin)
                }
            }
        }
    }

    /// The products `m[k] (+)= v[k][:, channels] x U[k]`, `[tiles, channels] x [channels, out]`, one
    /// per position k; the first block of input channels sets `m`, the others add to it.
    private func multiply(
        _ v: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ channels: Range<Int>, positions: Int,
        into m: UnsafeMutablePointer<Float>, tiles: Int, stride: Int
    ) {
        for k in 0..<positions {
            BLAS.sgemm(m: tiles, n: outChannels, k: channels.count, a: v + k * stride * inChannels + channels.lowerBound,
                       lda: inChannels, b: u + k * channels.count * outChannels, ldb: outChannels,
                       beta: channels.lowerBound == 0 ? 0 : 1, c: m + k * stride * outChannels, ldc: outChannels)
        }
    }

    /// `A^T m A` (+ bias) for each tile, written to the tile's output pixels inside the image.
    private func transformOutput(
        _ m: UnsafeMutablePointer<Float>, _ g: TileGeometry, _ kernels: Kernels, tiles: Range<Int>, stride: Int, into y: inout Tensor
    ) {
        let cout = outChannels, dst = y.storage.pointer, biasPointer = bias?.storage.pointer
        Parallel.forEachRange(tiles.count, minimumPerThread: 8) { range in
            for local in range {
                let (n, oy, ox) = g.origin(tiles.lowerBound + local)
                let pixels = TilePixels(rows: min(g.side, g.height - oy), columns: min(g.side, g.width - ox),
                                        rowStride: g.width * cout, pixelStride: cout)
                let base = dst + ((n * g.height + oy) * g.width + ox) * cout
                kernels.winogradOutput(side: g.side, m + local * cout, positionStride: stride * cout, bias: biasPointer,
                                       count: cout, into: base, pixels)
            }
        }
    }
}

/// The output pixels of one tile that lie inside the image (edge tiles are cut), and how far
/// apart they are in memory.
struct TilePixels {
    let rows, columns, rowStride, pixelStride: Int
}
