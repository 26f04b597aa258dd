extension Conv2D {
    /// F(2x2, 3x3): 4x4 patches, 16 products per 4 outputs. Its matrices (interpolation points
    /// 0, ±1, ∞) have entries 0, ±1 and ±1/2, so the transforms add and subtract, and only the
    /// weights' halving is a multiplication.
    enum WinogradF2x2: WinogradTiling {
        static let side = 2

        /// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]] on three taps.
        @inline(__always)
        private static func g<V: WinogradVector>(_ g0: V, _ g1: V, _ g2: V) -> (V, V, V, V) {
            (g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2)
        }

        /// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] on four pixels.
        @inline(__always)
        private static func bT<V: WinogradVector>(_ d0: V, _ d1: V, _ d2: V, _ d3: V) -> (V, V, V, V) {
            (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }

        /// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]] on four positions.
        @inline(__always)
        private static func aT<V: WinogradVector>(_ m0: V, _ m1: V, _ m2: V, _ m3: V) -> (V, V) {
            (m0 + m1 + m2, m1 - m2 - m3)
        }

        @inline(__always)
        static func transformWeights<V: WinogradVector>(
            _ g: UnsafePointer<Float>, tapStride: Int, into out: UnsafeMutablePointer<Float>, positionStride: Int, _: V.Type
        ) {
            func tap(_ r: Int, _ c: Int) -> V { V.load(g + (r * 3 + c) * tapStride) }
            // G g, a column at a time; then each row of G g, times G^T.
            let (c0, c1, c2) = (self.g(tap(0, 0), tap(1, 0), tap(2, 0)), self.g(tap(0, 1), tap(1, 1), tap(2, 1)),
                                self.g(tap(0, 2), tap(1, 2), tap(2, 2)))
            func emit(_ r: Int, _ w: (V, V, V, V)) { store(w, out + 4 * r * positionStride, positionStride) }
            emit(0, self.g(c0.0, c1.0, c2.0))
            emit(1, self.g(c0.1, c1.1, c2.1))
            emit(2, self.g(c0.2, c1.2, c2.2))
            emit(3, self.g(c0.3, c1.3, c2.3))
        }

        @inline(__always)
        static func transformInput<V: WinogradVector>(
            _ patch: UnsafePointer<UnsafePointer<Float>?>, channel: Int, into out: UnsafeMutablePointer<Float>,
            positionStride: Int, _: V.Type
        ) {
            func d(_ r: Int, _ c: Int) -> V { patch[r * 4 + c].map { V.load($0 + channel) } ?? V() }
            func column(_ c: Int) -> (V, V, V, V) { bT(d(0, c), d(1, c), d(2, c), d(3, c)) }
            // B^T d, a column at a time; then each row of B^T d, times B.
            let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
            func emit(_ r: Int, _ t: (V, V, V, V)) { store(t, out + 4 * r * positionStride, positionStride) }
            emit(0, bT(c0.0, c1.0, c2.0, c3.0))
            emit(1, bT(c0.1, c1.1, c2.1, c3.1))
            emit(2, bT(c0.2, c1.2, c2.2, c3.2))
            emit(3, bT(c0.3, c1.3, c2.3, c3.3))
        }

        @inline(__always)
        static func transformOutput<V: WinogradVector>(
            _ m: UnsafePointer<Float>, positionStride: Int, bias: V, into out: UnsafeMutablePointer<Float>, _ pixels: TilePixels
        ) {
            func at(_ k: Int) -> V { V.load(m + k * positionStride) }
            func column(_ c: Int) -> (V, V) { aT(at(c), at(4 + c), at(8 + c), at(12 + c)) }
            // A^T m, a column at a time; then each row of A^T m, times A.
            let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
            func emit(_ r: Int, _ s: (V, V)) {
                guard r < pixels.rows else { return }
                let row = out + r * pixels.rowStride
                (s.0 + bias).store(row)
                if pixels.columns > 1 { (s.1 + bias).store(row + pixels.pixelStride) }
            }
            emit(0, aT(c0.0, c1.0, c2.0, c3.0))
            emit(1, aT(c0.1, c1.1, c2.1, c3.1))
        }

        /// Four vectors to consecutive positions of a row.
        @inline(__always)
        private static func store<V: WinogradVector>(_ v: (V, V, V, V), _ row: UnsafeMutablePointer<Float>, _ stride: Int) {
            v.0.store(row)
            v.1.store(row + stride)
            v.2.store(row + 2 * stride)
            v.3.store(row + 3 * stride)
        }
    }
}
