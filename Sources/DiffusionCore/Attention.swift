/// Scaled dot-product attention over `(batch, tokens, heads * headDim)` tensors, the layout
/// diffusers' attention processors work in, so heads are strided views and never copied.
///
/// Queries are processed in chunks so that at most a budget of scores is held at once:
/// SD1.5 at 512x512 has 4096 tokens, whose full score matrix for 8 heads at batch 2 is 1 GiB.
public enum Attention {
    /// The most attention scores (floats) held at once by default: 16 MiB.
    public static let defaultScoreBudget = 1 << 22

    /// softmax(q k^T * scale [+ causal mask]) v, per head.
    /// - Parameters:
    ///   - query: `[batch, queries, heads * headDim]`.
    ///   - key, value: `[batch, keys, heads * headDim]`.
    ///   - causal: masks key j > query i (CLIP's text encoder).
    ///   - scale: defaults to `1 / sqrt(headDim)`.
    ///   - scoreBudget: the most scores held at once; queries are chunked to fit.
    public static func scaledDotProduct(
        query: Tensor, key: Tensor, value: Tensor, heads: Int, causal: Bool = false, scale: Float? = nil,
        scoreBudget: Int = defaultScoreBudget
    ) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && key.shape == value.shape, "attention shapes \(query.shape), \(key.shape), \(value.shape)")
        precondition(query.shape[0] == key.shape[0] && query.shape[2] == key.shape[2], "attention shapes \(query.shape), \(key.shape)")
        let (batch, queries, width) = (query.shape[0], query.shape[1], query.shape[2])
        let keys = key.shape[1]
        precondition(width % heads == 0, "\(width) features do not split into \(heads) heads")
        let flops = 4.0 * Double(batch * queries) * Double(keys * width)
        return Profile.measure(.attention, flops: flops) {
            attend(query, key, value, heads: heads, causal: causal, scale: scale, scoreBudget: scoreBudget)
        }
    }

    private static func attend(
        _ query: Tensor, _ key: Tensor, _ value: Tensor, heads: Int, causal: Bool, scale: Float?, scoreBudget: Int
    ) -> Tensor {
        let (batch, queries, width, keys) = (query.shape[0], query.shape[1], query.shape[2], key.shape[1])
        let headDim = width / heads
        let alpha = scale ?? 1 / Float(headDim).squareRoot()
        var output = Tensor(uninitializedShape: query.shape)
        let chunk = max(1, min(queries, scoreBudget / keys))
        ScratchPool.withFloats(chunk * keys) { s in
            for b in 0..<batch {
                for h in 0..<heads {
                    let offset = h * headDim
                    let q = query.storage.pointer + b * queries * width + offset
                    let k = key.storage.pointer + b * keys * width + offset
                    let v = value.storage.pointer + b * keys * width + offset
                    let o = output.storage.pointer + b * queries * width + offset
                    for start in stride(from: 0, to: queries, by: chunk) {
                        let rows = min(chunk, queries - start)
                        BLAS.sgemm(transposeB: true, m: rows, n: keys, k: headDim, alpha: alpha,
                                   a: q + start * width, lda: width, b: k, ldb: width, c: s, ldc: keys)
                        normalizeRows(s, rows: rows, keys: keys, firstQuery: start, causal: causal)
                        BLAS.sgemm(m: rows, n: headDim, k: keys, a: s, lda: keys, b: v, ldb: width,
                                   c: o + start * width, ldc: width)
                    }
                }
            }
        }
        return output
    }

    /// Softmax of each score row, after zeroing the keys a causal mask hides.
    private static func normalizeRows(_ s: UnsafeMutablePointer<Float>, rows: Int, keys: Int, firstQuery: Int, causal: Bool) {
        Parallel.forEachRange(rows, minimumPerThread: max(1, 4096 / keys)) { range in
            for r in range {
                let row = s + r * keys
                if causal {
                    let visible = min(keys, firstQuery + r + 1)
                    softmaxRow(row, count: visible)
                    for j in visible..<keys { row[j] = 0 }
                } else {
                    softmaxRow(row, count: keys)
                }
            }
        }
    }
}
