/// Scaled dot-product attention over `(batch, tokens, heads * headDim)` tensors, the layout
/// diffusers' attention processors work in, so heads are strided views of the projections.
///
/// Each head runs fused, a group of query rows at a time (the scheme of flash attention, with
/// whole rows of scores): the rows' scores against every key, their softmax, and their product
/// with the values are computed while the scores are still in cache, by one register-blocked
/// SIMD kernel (`multiplyTile`) used for both products. Only `groupRows x keys` scores per
/// thread exist at once: SD1.5 at 512x512 has 4096 tokens, whose full score matrix for 8 heads
/// at batch 2 would be 1 GiB. The products have one short side (the head width: 40 to 160 in
/// SD, 64 in SDXL), a shape at which BLAS ran at a third of its speed (Docs/PERFORMANCE.md).
public enum Attention {
    /// softmax(q k^T * scale [+ causal mask]) v, per head.
    /// - Parameters:
    ///   - query: `[batch, queries, heads * headDim]`.
    ///   - key, value: `[batch, keys, heads * headDim]`.
    ///   - causal: masks key j > query i (CLIP's text encoder).
    ///   - scale: defaults to `1 / sqrt(headDim)`.
    public static func scaledDotProduct(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, causal: Bool = false, scale: Float? = nil
    ) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && key.shape == value.shape, "attention shapes \(query.shape), \(key.shape), \(value.shape)")
        precondition(query.shape[0] == key.shape[0] && query.shape[2] == key.shape[2], "attention shapes \(query.shape), \(key.shape)")
        precondition(query.shape[2] % heads == 0, "\(query.shape[2]) features do not split into \(heads) heads")
        let flops = 4.0 * Double(query.shape[0] * query.shape[1]) * Double(key.shape[1] * query.shape[2])
        return Profile.measure(.attention, flops: flops) {
            var output = Tensor(uninitializedShape: query.shape)
            let head = Head(queries: query.shape[1], keys: key.shape[1], width: query.shape[2], heads: heads,
                            scale: scale, causal: causal)
            ScratchPool.withFloats(head.packedFloats) { packed in
                for b in 0..<query.shape[0] {
                    for h in 0..<heads {
                        let (inputOffset, keyOffset) = (b * head.queries * head.width + h * head.dim, b * head.keys * head.width + h * head.dim)
                        head.pack(key: key.storage.pointer + keyOffset, value: value.storage.pointer + keyOffset, into: packed)
                        head.attend(query.storage.pointer + inputOffset, packed, into: output.storage.pointer + inputOffset)
                    }
                }
            }
            return output
        }
    }

    /// The geometry of one head's attention and its two passes.
    struct Head {
        let queries, keys, width, dim: Int
        let alpha: Float
        let causal: Bool
        /// Keys and head width rounded up to whole 16-column tiles (the padding is zeros).
        let paddedKeys, paddedDim: Int

        /// Query rows per register tile, and tiles per group sharing one pass over the keys.
        static let tileRows = Tile.rows, groupTiles = 4
        static var groupRows: Int { tileRows * groupTiles }

        init(queries: Int, keys: Int, width: Int, heads: Int, scale: Float?, causal: Bool) {
            (self.queries, self.keys, self.width, dim) = (queries, keys, width, width / heads)
            alpha = scale ?? 1 / Float(width / heads).squareRoot()
            self.causal = causal
            paddedKeys = (keys + 15) / 16 * 16
            paddedDim = (dim + 15) / 16 * 16
        }

        /// `k^T` as `[dim, paddedKeys]`, then `v` as `[keys, paddedDim]`.
        var packedFloats: Int { dim * paddedKeys + keys * paddedDim }

        /// Packs one head's keys (transposed) and values so the kernel reads 16 contiguous columns.
        func pack(key: UnsafePointer<Float>, value: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
            let (kT, v) = (packed, packed + dim * paddedKeys)
            for d in 0..<dim {
                let row = kT + d * paddedKeys
                for j in 0..<keys { row[j] = key[j * width + d] }
                for j in keys..<paddedKeys { row[j] = 0 }
            }
            for j in 0..<keys {
                let row = v + j * paddedDim
                row.update(from: value + j * width, count: dim)
                for c in dim..<paddedDim { row[c] = 0 }
            }
        }

        /// The head's output rows, a group of `groupRows` queries at a time, spread across the threads.
        func attend(_ query: UnsafePointer<Float>, _ packed: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
            let groups = (queries + Head.groupRows - 1) / Head.groupRows
            Parallel.forEachRange(groups) { range in
                ScratchPool.withFloats(Head.groupRows * (paddedKeys + 1)) { scores in
                    let inverseSums = scores + Head.groupRows * paddedKeys
                    for group in range {
                        let first = group * Head.groupRows
                        let rows = min(Head.groupRows, queries - first)
                        score(query + first * width, rows: rows, packed, into: scores)
                        exponentiate(scores, rows: rows, firstQuery: first, inverseSums: inverseSums)
                        weighValues(scores, rows: rows, inverseSums, packed + dim * paddedKeys, into: output + first * width)
                    }
                }
            }
        }

        /// `scores[r, j] = alpha * q_r . k_j` for the group's rows: each 16-key block is read once for all its tiles.
        private func score(_ query: UnsafePointer<Float>, rows: Int, _ kT: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
            for j in stride(from: 0, to: paddedKeys, by: 16) {
                for r in stride(from: 0, to: rows, by: Head.tileRows) {
                    let tile = multiplyTile(query + r * width, lda: width, rows: min(Head.tileRows, rows - r),
                                            kT + j, ldb: paddedKeys, depth: dim)
                    tile.store(scaledBy: alpha, rows: min(Head.tileRows, rows - r), columns: 16,
                               to: scores + r * paddedKeys + j, ldc: paddedKeys)
                }
            }
        }

        /// Softmax of each score row over the keys it may see, but for its division by the row's
        /// sum, which `weighValues` applies to the row's output instead (`head width` divisions
        /// instead of `keys`). Keys a causal mask hides get zero.
        private func exponentiate(_ scores: UnsafeMutablePointer<Float>, rows: Int, firstQuery: Int, inverseSums: UnsafeMutablePointer<Float>) {
            for r in 0..<rows {
                let row = scores + r * paddedKeys
                let visible = causal ? min(keys, firstQuery + r + 1) : keys
                inverseSums[r] = 1 / exponentiateRow(row, count: visible, maximum: rowMaximum(row, count: visible))
                for j in visible..<keys { row[j] = 0 }
            }
        }

        /// `out[r, c] = sum_j scores[r, j] v[j, c]`, 16 columns of the head at a time.
        private func weighValues(
            _ scores: UnsafePointer<Float>, rows: Int, _ inverseSums: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
            into out: UnsafeMutablePointer<Float>
        ) {
            for c in stride(from: 0, to: dim, by: 16) {
                for r in stride(from: 0, to: rows, by: Head.tileRows) {
                    let tile = multiplyTile(scores + r * paddedKeys, lda: paddedKeys, rows: min(Head.tileRows, rows - r),
                                            v + c, ldb: paddedDim, depth: keys)
                    tile.store(scaledBy: 1, rowScales: inverseSums + r, rows: min(Head.tileRows, rows - r),
                               columns: min(16, dim - c), to: out + r * width + c, ldc: width)
                }
            }
        }
    }
}
