/// Winograd's F(2x2, 3x3) for 3x3, stride-1, padding-1 convolutions (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2015; the scheme NNPACK and oneDNN ship).
///
/// Each 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` for its 4x4 input patch d: the 9
/// multiplications per output pixel and channel pair become 4, done as 16 matrix products
/// `[tiles, in] x [in, out]` through BLAS. Transforms run on whole channel vectors (NHWC), so
/// they are SIMD loops; tiles go in chunks so the transformed data stays a few MB.
struct WinogradWeights: Sendable {
    /// `G g G^T` per (in, out) pair, as 16 matrices `[in, out]`: `[16, in, out]`.
    let transformed: Tensor

    init(_ weight: Tensor) {
        let (o, i) = (weight.shape[0], weight.shape[1])
        var u = Tensor(uninitializedShape: [16, i, o])
        let src = weight.storage.pointer, dst = u.storage.pointer
        // Loaded once per model, but an SD UNet has 2.6e6 kernels: in parallel, without allocations.
        Parallel.forEachRange(o, minimumPerThread: 4) { outputs in
            for co in outputs {
                for ci in 0..<i {
                    let g = src + (co * i + ci) * 9
                    // G g (4x3), G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]], in double.
                    var gg = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
                    for c in 0..<3 {
                        let (g0, g1, g2) = (Double(g[c]), Double(g[3 + c]), Double(g[6 + c]))
                        let column = SIMD4(g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)
                        switch c {
                        case 0: gg.0 = column
                        case 1: gg.1 = column
                        default: gg.2 = column
                        }
                    }
                    // (G g) G^T: row r is (a, (a + b + c) / 2, (a - b + c) / 2, c) of row r of G g.
                    for r in 0..<4 {
                        let (a, b, c) = (gg.0[r], gg.1[r], gg.2[r])
                        let row = SIMD4(a, (a + b + c) / 2, (a - b + c) / 2, c)
                        for col in 0..<4 { dst[((r * 4 + col) * i + ci) * o + co] = Float(row[col]) }
                    }
                }
            }
        }
        transformed = u
    }
}

extension Conv2D {
    /// The most floats each transformed buffer holds per chunk of tiles (16 MB).
    static let winogradChunkFloats = 1 << 22

    func winograd(_ x: Tensor, weights: WinogradWeights, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (tilesHigh, tilesWide) = ((height + 1) / 2, (width + 1) / 2)
        let tiles = batch * tilesHigh * tilesWide
        let chunk = max(1, min(tiles, Conv2D.winogradChunkFloats / (16 * max(inChannels, outChannels))))
        var v = [Float](repeating: 0, count: 16 * chunk * inChannels)
        var m = [Float](repeating: 0, count: 16 * chunk * outChannels)
        let geometry = TileGeometry(height: height, width: width, tilesHigh: tilesHigh, tilesWide: tilesWide)
        v.withUnsafeMutableBufferPointer { vBuffer in
            m.withUnsafeMutableBufferPointer { mBuffer in
                for first in Swift.stride(from: 0, to: tiles, by: chunk) {
                    let count = min(chunk, tiles - first)
                    transformInput(x, geometry, tiles: first..<first + count, into: vBuffer.baseAddress!, stride: chunk)
                    multiply(vBuffer.baseAddress!, weights, into: mBuffer.baseAddress!, tiles: count, stride: chunk)
                    transformOutput(mBuffer.baseAddress!, geometry, tiles: first..<first + count, stride: chunk, into: &y)
                }
            }
        }
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

    /// The 16 products `m[k] = v[k] x U[k]`, `[tiles, in] x [in, out]`.
    private func multiply(
        _ v: UnsafeMutablePointer<Float>, _ weights: WinogradWeights, into m: UnsafeMutablePointer<Float>, tiles: Int, stride: Int
    ) {
        let u = weights.transformed.storage.pointer
        for k in 0..<16 {
            BLAS.sgemm(m: tiles, n: outChannels, k: inChannels, a: v + k * stride * inChannels, lda: inChannels,
                       b: u + k * inChannels * outChannels, ldb: outChannels,
                       c: m + k * stride * outChannels, ldc: outChannels)
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
}

extension SIMD8: WinogradVector where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { load8(p) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }
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
}
