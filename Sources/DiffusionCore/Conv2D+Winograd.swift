/// Winograd's F(2x2, 3x3) for 3x3, stride-1, padding-1 convolutions (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2015; the scheme NNPACK and oneDNN ship).
///
/// Each 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` for its 4x4 input patch d: the 9
/// multiplications per output pixel and channel pair become 4, done as 16 matrix products
/// `[tiles, in] x [in, out]` through BLAS. Transforms run on whole channel vectors (NHWC), so
/// they are SIMD loops; tiles go in chunks so the transformed data stays a few MB. The weights'
/// transform `G g G^T` runs per call too, from the tap-major weights in their stored precision:
/// keeping the 16 transformed matrices instead would hold 16/9 of the float32 weights.
extension Conv2D {
    /// The most floats each transformed buffer holds per chunk of tiles (16 MB).
    static let winogradChunkFloats = 1 << 22
    /// The most floats of transformed weights held at once (32 MB, what the L3 cache holds).
    static let winogradWeightFloats = 1 << 23

    /// Tiles below which Winograd's per-call weight transform costs more than its fewer
    /// multiplications save, so a chosen (not forced) Winograd layer runs `patches` instead.
    static let winogradMinimumTiles = 64

    /// Whether Winograd beats the patch-matrix product on `x` (`diffuse-bench ops`: at 1280
    /// channels, 8x8 at batch 2 has 32 tiles and runs faster as patches).
    func winogradPays(_ x: Tensor) -> Bool {
        x.shape[0] * ((x.shape[1] + 1) / 2) * ((x.shape[2] + 1) / 2) >= Conv2D.winogradMinimumTiles
    }

    func winograd(_ x: Tensor, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (tilesHigh, tilesWide) = ((height + 1) / 2, (width + 1) / 2)
        let tiles = batch * tilesHigh * tilesWide
        let (chunk, block) = winogradBlocking(tiles: tiles)
        let geometry = TileGeometry(height: height, width: width, tilesHigh: tilesHigh, tilesWide: tilesWide)
        let blocks = Swift.stride(from: 0, to: inChannels, by: block).map { $0..<min(inChannels, $0 + block) }
        ScratchPool.withFloats(16 * block * outChannels) { u in
            if blocks.count == 1 { transformWeights(blocks[0], into: u) }
            ScratchPool.withFloats(16 * chunk * inChannels) { v in
                ScratchPool.withFloats(16 * chunk * outChannels) { m in
                    for first in Swift.stride(from: 0, to: tiles, by: chunk) {
                        let count = min(chunk, tiles - first)
                        transformInput(x, geometry, tiles: first..<first + count, into: v, stride: chunk)
                        for channels in blocks {
                            if blocks.count > 1 { transformWeights(channels, into: u) }
                            multiply(v, u, channels, into: m, tiles: count, stride: chunk)
                        }
                        transformOutput(m, geometry, tiles: first..<first + count, stride: chunk, into: &y)
                    }
                }
            }
        }
    }

    /// Tiles per chunk, and input channels per block of transformed weights. When the weights
    /// outweigh the tiles (deep, low-resolution layers) all tiles go in one chunk and the weights
    /// are transformed a block of input channels at a time, each block used while it is in cache;
    /// otherwise the tiles go in chunks and the weights are transformed once, whole.
    private func winogradBlocking(tiles: Int) -> (chunk: Int, block: Int) {
        let (cin, cout) = (inChannels, outChannels)
        guard tiles * (cin + cout) <= cin * cout else {
            return (max(1, min(tiles, Conv2D.winogradChunkFloats / (16 * max(cin, cout)))), cin)
        }
        return (tiles, min(cin, max(8, Conv2D.winogradWeightFloats / (16 * cout) / 8 * 8)))
    }

    /// `G g G^T` for the (in, out) pairs of input channels `channels` into `u`, 16 matrices
    /// `[channels.count, out]`, with G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]];
    /// vectors run along `out`.
    private func transformWeights(_ channels: Range<Int>, into u: UnsafeMutablePointer<Float>) {
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
                    let out = u + local * cout
                    var co = 0
                    while co + 8 <= cout {
                        transformWeightVector(g + co, cout, out + co, positionStride, SIMD8<Float>.self)
                        co += 8
                    }
                    while co < cout {
                        transformWeightVector(g + co, cout, out + co, positionStride, SIMD1.self)
                        co += 1
                    }
                }
            }
        }
    }

    /// One vector of output channels: taps `g` (`tapStride` apart) to the 16 positions of `out`.
    @inline(__always)
    private func transformWeightVector<V: WinogradVector>(
        _ g: UnsafePointer<Float>, _ tapStride: Int, _ out: UnsafeMutablePointer<Float>, _ positionStride: Int, _: V.Type
    ) {
        func tap(_ r: Int, _ c: Int) -> V { V.load(g + (r * 3 + c) * tapStride) }
        // G g, one column at a time: (g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2).
        func column(_ c: Int) -> (V, V, V, V) {
            let (g0, g1, g2) = (tap(0, c), tap(1, c), tap(2, c))
            return (g0, (g0 + g1 + g2).halved(), (g0 - g1 + g2).halved(), g2)
        }
        // Then row r of (G g) G^T: (a, (a + b + c) / 2, (a - b + c) / 2, c).
        func emit(_ r: Int, _ a: V, _ b: V, _ c: V) {
            a.store(out + 4 * r * positionStride)
            (a + b + c).halved().store(out + (4 * r + 1) * positionStride)
            (a - b + c).halved().store(out + (4 * r + 2) * positionStride)
            c.store(out + (4 * r + 3) * positionStride)
        }
        let (c0, c1, c2) = (column(0), column(1), column(2))
        emit(0, c0.0, c1.0, c2.0)
        emit(1, c0.1, c1.1, c2.1)
        emit(2, c0.2, c1.2, c2.2)
        emit(3, c0.3, c1.3, c2.3)
    }

    /// Where tile t of the image sits.
    struct TileGeometry {
        let height, width, tilesHigh, tilesWide: Int

        /// Image n, and the top-left output pixel of tile `t`.
        func origin(_ t: Int) -> (n: Int, y: Int, x: Int) {
            let perImage = tilesHigh * tilesWide
            return (t / perImage, 2 * (t % perImage / tilesWide), 2 * (t % tilesWide))
        }
    }

    /// `B^T d B` for every channel of each tile's 4x4 patch (rows and columns from -1, zero outside),
    /// into `v[position][tile][in]`, `stride` tiles per position.
    private func transformInput(_ x: Tensor, _ g: TileGeometry, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let cin = inChannels, src = x.storage.pointer
        Parallel.forEachRange(tiles.count, minimumPerThread: 8) { range in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 16) { buffer in
                let patch = buffer.baseAddress!
                for local in range {
                    let (n, oy, ox) = g.origin(tiles.lowerBound + local)
                    for r in 0..<4 {
                        for c in 0..<4 {
                            let (iy, ix) = (oy - 1 + r, ox - 1 + c)
                            let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                            patch[r * 4 + c] = inside ? UnsafePointer(src + ((n * g.height + iy) * g.width + ix) * cin) : nil
                        }
                    }
                    let out = v + local * cin
                    var ch = 0
                    while ch + 8 <= cin {
                        transformInputVector(patch, ch, out + ch, positionStride: stride * cin, SIMD8<Float>.self)
                        ch += 8
                    }
                    while ch < cin {
                        transformInputVector(patch, ch, out + ch, positionStride: stride * cin, SIMD1.self)
                        ch += 1
                    }
                }
            }
        }
    }

    @inline(__always)
    private func transformInputVector<V: WinogradVector>(
        _ patch: UnsafeMutablePointer<UnsafePointer<Float>?>, _ ch: Int, _ out: UnsafeMutablePointer<Float>,
        positionStride: Int, _: V.Type
    ) {
        func d(_ r: Int, _ c: Int) -> V { patch[r * 4 + c].map { V.load($0 + ch) } ?? V() }
        // t = B^T d, one column at a time: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
        func column(_ c: Int) -> (V, V, V, V) {
            let (d0, d1, d2, d3) = (d(0, c), d(1, c), d(2, c), d(3, c))
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        // Then row r of t B: (t0 - t2, t1 + t2, t2 - t1, t1 - t3).
        func emit(_ r: Int, _ t0: V, _ t1: V, _ t2: V, _ t3: V) {
            (t0 - t2).store(out + (4 * r) * positionStride)
            (t1 + t2).store(out + (4 * r + 1) * positionStride)
            (t2 - t1).store(out + (4 * r + 2) * positionStride)
            (t1 - t3).store(out + (4 * r + 3) * positionStride)
        }
        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
        emit(0, c0.0, c1.0, c2.0, c3.0)
        emit(1, c0.1, c1.1, c2.1, c3.1)
        emit(2, c0.2, c1.2, c2.2, c3.2)
        emit(3, c0.3, c1.3, c2.3, c3.3)
    }

    /// The 16 products `m[k] (+)= v[k][:, channels] x U[k]`, `[tiles, channels] x [channels, out]`;
    /// the first block of input channels sets `m`, the others add to it.
    private func multiply(
        _ v: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ channels: Range<Int>,
        into m: UnsafeMutablePointer<Float>, tiles: Int, stride: Int
    ) {
        for k in 0..<16 {
            BLAS.sgemm(m: tiles, n: outChannels, k: channels.count, a: v + k * stride * inChannels + channels.lowerBound,
                       lda: inChannels, b: u + k * channels.count * outChannels, ldb: outChannels,
                       beta: channels.lowerBound == 0 ? 0 : 1, c: m + k * stride * outChannels, ldc: outChannels)
        }
    }

    /// `A^T m A` (+ bias) for each tile, written to the tile's up-to-2x2 output pixels.
    private func transformOutput(
        _ m: UnsafeMutablePointer<Float>, _ g: TileGeometry, tiles: Range<Int>, stride: Int, into y: inout Tensor
    ) {
        let cout = outChannels, dst = y.storage.pointer, biasPointer = bias?.storage.pointer
        Parallel.forEachRange(tiles.count, minimumPerThread: 8) { range in
            for local in range {
                let (n, oy, ox) = g.origin(tiles.lowerBound + local)
                let rows = min(2, g.height - oy), columns = min(2, g.width - ox)
                let base = dst + ((n * g.height + oy) * g.width + ox) * cout
                let source = m + local * cout
                var ch = 0
                while ch + 8 <= cout {
                    transformOutputVector(source + ch, stride * cout, base + ch, g.width * cout, rows, columns,
                                          biasPointer.map { $0 + ch }, SIMD8<Float>.self)
                    ch += 8
                }
                while ch < cout {
                    transformOutputVector(source + ch, stride * cout, base + ch, g.width * cout, rows, columns,
                                          biasPointer.map { $0 + ch }, SIMD1.self)
                    ch += 1
                }
            }
        }
    }

    /// One vector of channels of one tile: `A^T m A` (+ bias) to pixels `out` (row stride `rowStride`).
    @inline(__always)
    private func transformOutputVector<V: WinogradVector>(
        _ m: UnsafeMutablePointer<Float>, _ positionStride: Int, _ out: UnsafeMutablePointer<Float>, _ rowStride: Int,
        _ rows: Int, _ columns: Int, _ bias: UnsafeMutablePointer<Float>?, _: V.Type
    ) {
        func at(_ k: Int) -> V { V.load(m + k * positionStride) }
        // s = A^T m, one column at a time: (m0 + m1 + m2, m1 - m2 - m3).
        func column(_ c: Int) -> (V, V) {
            let (m0, m1, m2, m3) = (at(c), at(4 + c), at(8 + c), at(12 + c))
            return (m0 + m1 + m2, m1 - m2 - m3)
        }
        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
        let b = bias.map { V.load($0) } ?? V()
        // Row r of s A: (s0 + s1 + s2, s1 - s2 - s3).
        (c0.0 + c1.0 + c2.0 + b).store(out)
        if columns == 2 { (c1.0 - c2.0 - c3.0 + b).store(out + outChannels) }
        guard rows == 2 else { return }
        (c0.1 + c1.1 + c2.1 + b).store(out + rowStride)
        if columns == 2 { (c1.1 - c2.1 - c3.1 + b).store(out + rowStride + outChannels) }
    }
}

/// The vector widths the transforms run at: 8 channels at a time, then one.
protocol WinogradVector {
    init()
    static func load(_ p: UnsafePointer<Float>) -> Self
    func store(_ p: UnsafeMutablePointer<Float>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    func halved() -> Self
}

extension SIMD8: WinogradVector where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { load8(p) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    @inline(__always) func halved() -> SIMD8<Float> { self * 0.5 }
}

/// One float as a vector of one.
struct SIMD1: WinogradVector {
    var value: Float = 0
    init() {}
    init(_ value: Float) { self.value = value }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD1 { SIMD1(p.pointee) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = value }
    @inline(__always) static func + (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(a.value + b.value) }
    @inline(__always) static func - (a: SIMD1, b: SIMD1) -> SIMD1 { SIMD1(a.value - b.value) }
    @inline(__always) func halved() -> SIMD1 { SIMD1(value * 0.5) }
}
