import Foundation

/// Scaled dot-product attention over `(batch, tokens, heads * headDim)` tensors, the layout
/// diffusers' attention processors work in, so heads are strided views of the projections.
///
/// Each head runs fused, a group of query rows against a block of keys at a time, with an online
/// softmax (flash attention's scheme): the rows' scores against the block, their exponentials and
/// their product with the values are computed while the block's scores are in cache, by one
/// register-blocked product kernel of the instruction set's C kernels (`Kernels.panelProduct`)
/// used for both products. Only
/// `groupRows x blockKeys` scores per thread exist at once: SD1.5 at 512x512 has 4096 tokens,
/// whose full score matrix for 8 heads at batch 2 would be 1 GiB. The products have one short
/// side (the head width: 40 to 160 in SD, 64 in SDXL), a shape at which BLAS ran at a third of
/// its speed (Docs/PERFORMANCE.md).
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
        precondition(key.shape[1] > 0, "attention over no keys")
        let flops = 4.0 * Double(query.shape[0] * query.shape[1]) * Double(key.shape[1] * query.shape[2])
        return Profile.measure(.attention, flops: flops) {
            let output = Tensor(uninitializedShape: query.shape)
            let head = Head(queries: query.shape[1], keys: key.shape[1], width: query.shape[2], heads: heads,
                            scale: scale, causal: causal, kernels: .current)
            let pairs = query.shape[0] * heads
            // One head of one sample at a time.
            func run(_ pair: Int, _ packed: UnsafeMutablePointer<Float>, _ attend: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
                let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
                let (inputOffset, keyOffset) = (b * head.queries * head.width + h * head.dim, b * head.keys * head.width + h * head.dim)
                head.pack(key: key.storage.pointer + keyOffset, value: value.storage.pointer + keyOffset, into: packed)
                attend(query.storage.pointer + inputOffset, output.storage.pointer + inputOffset)
            }
            if pairs % Parallel.threadCount == 0 {
                // Whole heads per thread when they divide evenly: each thread packs its own heads'
                // keys and values (a pass over memory that otherwise ran on one thread) and the
                // threads are handed work once per call, not once per head.
                Parallel.forEachRange(pairs) { range in
                    ScratchPool.withFloats(head.packedFloats) { packed in
                        for pair in range {
                            run(pair, packed) { head.attend(groups: 0..<head.groups, $0, packed, into: $1) }
                        }
                    }
                }
            } else {
                ScratchPool.withFloats(head.packedFloats) { packed in
                    for pair in 0..<pairs {
                        run(pair, packed) { query, output in
                            Parallel.forEachRange(head.groups) { head.attend(groups: $0, query, packed, into: output) }
                        }
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
        /// Keys and head width rounded up to whole 16-column panels (the padding is zeros).
        let paddedKeys, paddedDim: Int
        let kernels: Kernels
        /// Query rows sharing one pass over the keys: whole register tiles, about 24 rows (4 tiles
        /// of 6 on AVX2, 2 of 14 on AVX-512).
        let groupRows: Int
        /// Keys per block: a block's scores (24 x 512, 48 KB) and its key and value panels (80 KB
        /// and 96 KB at SD1.5's head width of 40) stay in L2 while they are used. 512 keys ran
        /// about 3% faster than 256 (fewer rescales and reloads of the weighted values) and as
        /// fast as 1024 (`diffuse-bench ops --only attention`, alternating builds).
        static let blockKeys = 512

        init(queries: Int, keys: Int, width: Int, heads: Int, scale: Float?, causal: Bool, kernels: Kernels) {
            (self.queries, self.keys, self.width, dim) = (queries, keys, width, width / heads)
            alpha = scale ?? 1 / Float(width / heads).squareRoot()
            self.causal = causal
            paddedKeys = (keys + 15) / 16 * 16
            paddedDim = (dim + 15) / 16 * 16
            self.kernels = kernels
            groupRows = (24 + kernels.tileRows - 1) / kernels.tileRows * kernels.tileRows
        }

        /// `k^T` as `[paddedKeys / 16, dim, 16]`, then `v` as `[paddedDim / 16, keys, 16]`: each
        /// 16-column panel the kernel reads is contiguous. (Rows of the whole `k^T`, 16 KB apart at
        /// 4096 keys, all fell in the same few L1 sets.)
        var packedFloats: Int { dim * paddedKeys + keys * paddedDim }

        /// Packs one head's keys (transposed) and values into 16-column panels, zero-padded.
        func pack(key: UnsafePointer<Float>, value: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
            let (kT, v) = (packed, packed + dim * paddedKeys)
            for j in 0..<paddedKeys {
                let panel = kT + j / 16 * dim * 16 + j % 16
                if j < keys {
                    for d in 0..<dim { panel[d * 16] = key[j * width + d] }
                } else {
                    for d in 0..<dim { panel[d * 16] = 0 }
                }
            }
            for c in stride(from: 0, to: paddedDim, by: 16) {
                let columns = min(16, dim - c)
                for j in 0..<keys {
                    let row = v + (c / 16 * keys + j) * 16
                    row.update(from: value + j * width + c, count: columns)
                    for k in columns..<16 { row[k] = 0 }
                }
            }
        }

        /// Query groups of `groupRows` rows (the last one shorter) in the head.
        var groups: Int { (queries + groupRows - 1) / groupRows }

        /// The output rows of the query groups `range`, on the calling thread.
        func attend(
            groups range: Range<Int>, _ query: UnsafePointer<Float>, _ packed: UnsafePointer<Float>,
            into output: UnsafeMutablePointer<Float>
        ) {
            ScratchPool.withFloats(Group.floats(rows: groupRows, paddedDim: paddedDim)) { scratch in
                let group = Group(scratch, rows: groupRows, paddedDim: paddedDim, kernels: kernels)
                for index in range {
                    let first = index * groupRows
                    attend(group, query + first * width, firstQuery: first, rows: min(groupRows, queries - first),
                           packed, into: output + first * width)
                }
            }
        }

        /// One group of query rows against the keys a block at a time, softmax online (flash
        /// attention's scheme): each block's scores are exponentiated against the rows' running
        /// maxima, and when a block raises a row's maximum, the row's sum and weighted values so far
        /// are rescaled by `exp(old - new)`. The division by the sum waits for the last block.
        private func attend(
            _ group: Group, _ query: UnsafePointer<Float>, firstQuery: Int, rows: Int, _ packed: UnsafePointer<Float>,
            into output: UnsafeMutablePointer<Float>
        ) {
            group.reset(rows: rows)
            for start in stride(from: 0, to: keys, by: Head.blockKeys) {
                let block = start..<min(keys, start + Head.blockKeys)
                score(query, rows: rows, packed, block, into: group.scores)
                exponentiate(group, rows: rows, firstQuery: firstQuery, block)
                weighValues(group, rows: rows, packed + dim * paddedKeys, block)
            }
            for r in 0..<rows {
                kernels.scale(group.weighted + r * paddedDim, by: 1 / group.sums[r], count: dim, into: output + r * width)
            }
        }

        /// `scores[r, j - block.lowerBound] = alpha * q_r . k_j` for the keys of `block` (up to the
        /// next 16, whose padded keys score 0).
        private func score(
            _ query: UnsafePointer<Float>, rows: Int, _ kT: UnsafePointer<Float>, _ block: Range<Int>,
            into scores: UnsafeMutablePointer<Float>
        ) {
            kernels.panelProduct(query, lda: width, rows: rows, kT + block.lowerBound * dim, panelStride: dim * 16, depth: dim,
                                 columns: (block.count + 15) / 16 * 16, alpha: alpha, accumulating: false,
                                 into: scores, ldc: Head.blockKeys)
        }

        /// The block's scores to `exp(score - running maximum)`, zero where a causal mask hides the
        /// key, their sums added to the rows' sums; rows whose maximum the block raises rescale
        /// their sum and weighted values first.
        private func exponentiate(_ group: Group, rows: Int, firstQuery: Int, _ block: Range<Int>) {
            for r in 0..<rows {
                let row = group.scores + r * Head.blockKeys
                let visible = causal ? max(0, min(block.count, firstQuery + r + 1 - block.lowerBound)) : block.count
                let old = group.maxima[r]
                let new = visible > 0 ? max(old, kernels.rowMaximum(row, count: visible)) : old
                // No visible key yet, or only keys scoring -inf (from infinite inputs): the block
                // adds nothing, those keys weigh zero as in a whole-row softmax (exp(-inf - -inf)
                // would be NaN).
                guard new > -.infinity else {
                    row.update(repeating: 0, count: block.count)
                    continue
                }
                if new > old {
                    // Before the row's first finite score there is nothing to rescale.
                    if old > -.infinity { group.rescale(row: r, by: expf(old - new)) }
                    group.maxima[r] = new
                }
                group.sums[r] += kernels.exponentiateRow(row, count: visible, maximum: new)
                (row + visible).update(repeating: 0, count: block.count - visible)
            }
        }

        /// `weighted[r, c] (+)= sum_j p[r, j] v[j, c]` over the keys of `block` (the first block
        /// sets), every 16-column panel of the head.
        private func weighValues(_ group: Group, rows: Int, _ v: UnsafePointer<Float>, _ block: Range<Int>) {
            kernels.panelProduct(group.scores, lda: Head.blockKeys, rows: rows, v + block.lowerBound * 16, panelStride: keys * 16,
                                 depth: block.count, columns: paddedDim, alpha: 1, accumulating: block.lowerBound > 0,
                                 into: group.weighted, ldc: paddedDim)
        }
    }

    /// One thread's working set for a group of query rows: a block of scores, and per row the
    /// running maximum, the running sum of exponentials and the weighted values so far.
    struct Group {
        let scores, maxima, sums, weighted: UnsafeMutablePointer<Float>
        let paddedDim: Int
        let kernels: Kernels

        static func floats(rows: Int, paddedDim: Int) -> Int { rows * (Head.blockKeys + 2 + paddedDim) }

        init(_ scratch: UnsafeMutablePointer<Float>, rows: Int, paddedDim: Int, kernels: Kernels) {
            scores = scratch
            maxima = scores + rows * Head.blockKeys
            sums = maxima + rows
            weighted = sums + rows
            self.paddedDim = paddedDim
            self.kernels = kernels
        }

        /// Before the first block (whose weighted values are stored, not added).
        func reset(rows: Int) {
            maxima.update(repeating: -.infinity, count: rows)
            sums.update(repeating: 0, count: rows)
        }

        func rescale(row r: Int, by factor: Float) {
            sums[r] *= factor
            let row = weighted + r * paddedDim
            kernels.scale(row, by: factor, count: paddedDim, into: row)
        }
    }
}
