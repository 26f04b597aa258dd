import CPlatform

/// Matrix products through OpenBLAS's `cblas_sgemm` (loaded on first use: `OpenBLAS`). Row-major throughout.
public enum BLAS {
    /// Products of fewer multiply-adds (m n k) than this run on one thread: about 300 µs of work
    /// on one core, where waking and putting back OpenBLAS's worker costs tens of µs and system
    /// time; every product of the full-size models but a few embeddings is larger
    /// (Docs/PERFORMANCE.md, "Threads").
    static let smallProduct = 1 << 24

    /// C[m, n] = alpha * op(A) op(B) + beta * C, with op = transpose when asked.
    /// Leading dimensions are row strides, so strided views (one head of a multi-head
    /// projection) multiply without copies.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let library = OpenBLAS.library  // loads it on the first product
        // Waking OpenBLAS's workers costs more than they save on small products.
        let threads = m * n * k < smallProduct ? 1 : min(Parallel.threadCount, library.threads)
        cplatform_openblas_use_threads(Int32(threads))
        cplatform_sgemm(
            transposeA, transposeB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Tensor {
    /// The product of the last two axes: `[..., m, k] x [k, n]` (or `[n, k]` with `transposeB`),
    /// or batch by batch when `other` has the same leading axes.
    public func matmul(_ other: Tensor, transposeB: Bool = false) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        let m = shape[rank - 2], k = shape[rank - 1]
        let bRows = other.shape[other.rank - 2], bCols = other.shape[other.rank - 1]
        let n = transposeB ? bRows : bCols
        precondition((transposeB ? bCols : bRows) == k, "matmul shapes \(shape) and \(other.shape) do not fit")
        let batch = count / (m * k)
        let otherBatch = other.count / (bRows * bCols)
        precondition(otherBatch == 1 || otherBatch == batch, "matmul batch axes \(shape) and \(other.shape) differ")
        let result = Tensor(uninitializedShape: Array(shape.dropLast()) + [n])
        let out = result.storage.pointer, a = storage.pointer, b = other.storage.pointer
        if otherBatch == 1 {
            // One product: the batch axes fold into the rows.
            BLAS.sgemm(transposeB: transposeB, m: batch * m, n: n, k: k, a: a, lda: k, b: b, ldb: bCols, c: out, ldc: n)
        } else {
            for i in 0..<batch {
                BLAS.sgemm(transposeB: transposeB, m: m, n: n, k: k, a: a + i * m * k, lda: k,
                           b: b + i * bRows * bCols, ldb: bCols, c: out + i * m * n, ldc: n)
            }
        }
        return result
    }
}

/// A fully connected layer `y = x W^T + b` with PyTorch's `[out, in]` weight.
public struct Linear: Sendable {
    public let weight: WeightArray
    public let bias: Tensor?
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public init(weight: WeightArray, bias: Tensor?) {
        precondition(weight.shape.count == 2, "a linear weight is [out, in], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "linear bias \(bias!.shape) for weight \(weight.shape)")
        self.weight = weight
        self.bias = bias
    }

    public init(weight: Tensor, bias: Tensor?) {
        self.init(weight: WeightArray(weight), bias: bias)
    }

    /// Applies the layer to the last axis of `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "linear of \(inFeatures) inputs applied to \(x.shape)")
        let rows = x.count / inFeatures
        return Profile.measure(.linear, flops: 2.0 * Double(rows) * Double(inFeatures * outFeatures)) {
            let y = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outFeatures])
            BLAS.product(x.storage.pointer, rows: rows, weight: weight, bias: bias, into: y.storage.pointer)
            return y
        }
    }
}

extension BLAS {
    /// `out[rows, out] = a[rows, in] x W^T (+ bias)` for a PyTorch-layout `[out, in]` weight: the
    /// product of a linear layer and of a 1x1 convolution.
    static func product(
        _ a: UnsafePointer<Float>, rows: Int, weight: WeightArray, bias: Tensor?, into out: UnsafeMutablePointer<Float>
    ) {
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        if let bias {
            // Across the threads: at SDXL's sizes the bias rows are gigabytes per forward, and the
            // product waits for them.
            Parallel.forEachRange(rows, minimumPerThread: max(1, (1 << 16) / outputs)) { range in
                for r in range { (out + r * outputs).initialize(from: bias.storage.pointer, count: outputs) }
            }
        }
        weight.withFloat32 { w in
            sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: a, lda: inputs,
                  b: w, ldb: inputs, beta: bias == nil ? 0 : 1, c: out, ldc: outputs)
        }
    }
}
