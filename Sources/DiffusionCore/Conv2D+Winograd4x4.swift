extension Conv2D {
    /// F(4x4, 3x3): 6x6 patches, 36 products per 16 outputs, with Lavin & Gray's matrices
    /// (interpolation points 0, ±1, ±2, ∞). Their fractions (1/4, 1/6, 1/12, 1/24) are all in G,
    /// which runs once per weight per call, so B^T and A^T have small integer entries: the input
    /// and output transforms, which run per tile, multiply only by powers of two, exactly, and
    /// round only their additions. Where the fractions sit barely moves the float32 error (a
    /// scaled row of G and column of B leave each product's relative rounding as it was; a numpy
    /// float32 model gave 1.4-1.6e-5 for fractions in G, B or A alike); the larger constants set
    /// it, at 2-12 times F(2x2)'s (`OpsTests`).
    enum WinogradF4x4: WinogradTiling {
        static let side = 4

        /// G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6],
        /// [1/24, -1/12, 1/6], [0, 0, 1]] on three taps.
        @inline(__always)
        private static func g<V: WinogradVector>(_ g0: V, _ g1: V, _ g2: V) -> (V, V, V, V, V, V) {
            let outer = g0 + g2, even = g0 * (1 / 24) + g2 * (1 / 6), odd = g1 * (1 / 12)
            return (g0 * 0.25, (outer + g1) * (-1 / 6), (outer - g1) * (-1 / 6), even + odd, even - odd, g2)
        }

        /// B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
        /// [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]] on six pixels; 4 d0 - 5 d2 + d4 is written
        /// 4 (d0 - d2) + (d4 - d2), and the last row likewise, so every multiplication is by a
        /// power of two.
        @inline(__always)
        private static func bT<V: WinogradVector>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> (V, V, V, V, V, V) {
            let (even, odd) = (d4 - d2, (d3 - d1) * 2)
            return ((d0 - d2) * 4 + even, (d3 + d4) - (d1 + d2) * 4, (d4 - d3) + (d1 - d2) * 4,
                    even + odd, even - odd, (d1 - d3) * 4 + (d5 - d3))
        }

        /// A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
        /// on six positions.
        @inline(__always)
        private static func aT<V: WinogradVector>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) {
            let (sum12, difference12, sum34, difference34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
            return (m0 + sum12 + sum34, difference12 + difference34 * 2, sum12 + sum34 * 4, difference12 + difference34 * 8 + m5)
        }

        @inline(__always)
        static func transformWeights<V: WinogradVector>(
            _ g: UnsafePointer<Float>, tapStride: Int, into out: UnsafeMutablePointer<Float>, positionStride: Int, _: V.Type
        ) {
            func tap(_ r: Int, _ c: Int) -> V { V.load(g + (r * 3 + c) * tapStride) }
            // G g, a column at a time; then each row of G g, times G^T.
            let (c0, c1, c2) = (self.g(tap(0, 0), tap(1, 0), tap(2, 0)), self.g(tap(0, 1), tap(1, 1), tap(2, 1)),
                                self.g(tap(0, 2), tap(1, 2), tap(2, 2)))
            func emit(_ r: Int, _ w: (V, V, V, V, V, V)) { store(w, out + 6 * r * positionStride, positionStride) }
            emit(0, self.g(c0.0, c1.0, c2.0))
            emit(1, self.g(c0.1, c1.1, c2.1))
            emit(2, self.g(c0.2, c1.2, c2.2))
            emit(3, self.g(c0.3, c1.3, c2.3))
            emit(4, self.g(c0.4, c1.4, c2.4))
            emit(5, self.g(c0.5, c1.5, c2.5))
        }

        @inline(__always)
        static func transformInput<V: WinogradVector>(
            _ patch: UnsafePointer<UnsafePointer<Float>?>, channel: Int, into out: UnsafeMutablePointer<Float>,
            positionStride: Int, _: V.Type
        ) {
            func d(_ r: Int, _ c: Int) -> V { patch[r * 6 + c].map { V.load($0 + channel) } ?? V() }
            func column(_ c: Int) -> (V, V, V, V, V, V) { bT(d(0, c), d(1, c), d(2, c), d(3, c), d(4, c), d(5, c)) }
            // B^T d, a column at a time; then each row of B^T d, times B.
            let (c0, c1, c2, c3, c4, c5) = (column(0), column(1), column(2), column(3), column(4), column(5))
            func emit(_ r: Int, _ t: (V, V, V, V, V, V)) { store(t, out + 6 * r * positionStride, positionStride) }
            emit(0, bT(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
            emit(1, bT(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
            emit(2, bT(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
            emit(3, bT(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
            emit(4, bT(c0.4, c1.4, c2.4, c3.4, c4.4, c5.4))
            emit(5, bT(c0.5, c1.5, c2.5, c3.5, c4.5, c5.5))
        }

        @inline(__always)
        static func transformOutput<V: WinogradVector>(
            _ m: UnsafePointer<Float>, positionStride: Int, bias: V, into out: UnsafeMutablePointer<Float>, _ pixels: TilePixels
        ) {
            func at(_ k: Int) -> V { V.load(m + k * positionStride) }
            func column(_ c: Int) -> (V, V, V, V) { aT(at(c), at(6 + c), at(12 + c), at(18 + c), at(24 + c), at(30 + c)) }
            // A^T m, a column at a time; then each row of A^T m, times A.
            let (c0, c1, c2, c3, c4, c5) = (column(0), column(1), column(2), column(3), column(4), column(5))
            func emit(_ r: Int, _ s: (V, V, V, V)) {
                guard r < pixels.rows else { return }
                let row = out + r * pixels.rowStride
                (s.0 + bias).store(row)
                if pixels.columns > 1 { (s.1 + bias).store(row + pixels.pixelStride) }
                if pixels.columns > 2 { (s.2 + bias).store(row + 2 * pixels.pixelStride) }
                if pixels.columns > 3 { (s.3 + bias).store(row + 3 * pixels.pixelStride) }
            }
            emit(0, aT(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
            emit(1, aT(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
            emit(2, aT(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
            emit(3, aT(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
        }

        /// Six vectors to consecutive positions of a row.
        @inline(__always)
        private static func store<V: WinogradVector>(_ v: (V, V, V, V, V, V), _ row: UnsafeMutablePointer<Float>, _ stride: Int) {
            v.0.store(row)
            v.1.store(row + stride)
            v.2.store(row + 2 * stride)
            v.3.store(row + 3 * stride)
            v.4.store(row + 4 * stride)
            v.5.store(row + 5 * stride)
        }
    }
}
