// Follows the delta-weight formulas of kohya's sd-scripts (LoRA, LoCon) and LyCORIS (LoHa, LoKr) as
// A1111's built-in Lora extension applies them (Docs/LORA.md, "Formats").
import DiffusionCore

/// The tensors of one module's change in a LoRA file, each giving a delta weight `ΔW` that is added
/// to the module's weight times the user's scale.
enum LoRAFactors: Sendable {
    /// `ΔW = alpha / rank * up @ down`: kohya's `lora_up`/`lora_down`, PEFT's `lora_B`/`lora_A`.
    /// `up` is `[out, rank]` (or `[out, rank, 1, 1]`), `down` `[rank, in]` (or `[rank, in, k, k]`).
    case lowRank(up: Tensor, down: Tensor, alpha: Float?)
    /// LoHa: `ΔW = (w1a @ w1b) * (w2a @ w2b) * alpha / rank` (Hadamard product), rank `w1b.shape[0]`.
    case hadamard(w1a: Tensor, w1b: Tensor, w2a: Tensor, w2b: Tensor, alpha: Float?)
    /// LoKr: `ΔW = kron(w1, w2) * scale`, each factor whole or the product of its `_a`/`_b` pair;
    /// `scale` is `alpha / rank` when a factor is low-rank and the file has an alpha, else 1.
    case kronecker(w1: KroneckerFactor, w2: KroneckerFactor, alpha: Float?)

    enum KroneckerFactor: Sendable {
        case full(Tensor)
        case lowRank(a: Tensor, b: Tensor)

        /// The factor as a `[rows, columns]` matrix (trailing axes of a conv factor flattened).
        var matrix: Tensor {
            switch self {
            case .full(let w): return w.reshaped([w.shape[0], w.count / w.shape[0]])
            case .lowRank(let a, let b): return a.matmul(b.reshaped([b.shape[0], b.count / b.shape[0]]))
            }
        }

        /// The `[rows, columns]` of `matrix`, without computing it.
        var matrixShape: (rows: Int, columns: Int) {
            switch self {
            case .full(let w): return (w.shape[0], w.count / max(w.shape[0], 1))
            case .lowRank(let a, let b): return (a.shape[0], b.count / max(b.shape[0], 1))
            }
        }

        /// True unless a low-rank pair's inner sizes differ.
        var isConsistent: Bool {
            if case .lowRank(let a, let b) = self { return a.shape[1] == b.shape[0] }
            return true
        }

        var tensors: [Tensor] {
            switch self {
            case .full(let w): return [w]
            case .lowRank(let a, let b): return [a, b]
            }
        }

        var rank: Int? {
            if case .lowRank(_, let b) = self { return b.shape[0] }
            return nil
        }
    }

    /// Every tensor of the change.
    var tensors: [Tensor] {
        switch self {
        case .lowRank(let up, let down, _): return [up, down]
        case .hadamard(let w1a, let w1b, let w2a, let w2b, _): return [w1a, w1b, w2a, w2b]
        case .kronecker(let w1, let w2, _): return w1.tensors + w2.tensors
        }
    }

    /// Why these factors cannot change a weight of `shape`, or nil when they fit.
    func mismatch(for shape: [Int]) -> String? {
        guard tensors.allSatisfy({ $0.rank >= 2 && $0.count > 0 }) else {
            return "its factors \(tensors.map(\.shape)) are not all non-empty matrices"
        }
        let rows = shape[0], columns = shape.reduce(1, *) / max(rows, 1)
        switch self {
        case .lowRank(let up, let down, _):
            let rank = down.shape[0]
            return up.count == rows * rank && down.count == rank * columns
                ? nil : "lora_up \(up.shape) and lora_down \(down.shape) do not make a weight of shape \(shape)"
        case .hadamard(let w1a, let w1b, let w2a, let w2b, _):
            let fits = [(w1a, w1b), (w2a, w2b)].allSatisfy { a, b in
                a.rank == 2 && a.shape[0] == rows && b.shape[0] == a.shape[1] && b.count == b.shape[0] * columns
            }
            return fits ? nil : "hada_w1 \(w1a.shape) x \(w1b.shape) and hada_w2 \(w2a.shape) x \(w2b.shape) do not make a weight of shape \(shape)"
        case .kronecker(let w1, let w2, _):
            let (a, b) = (w1.matrixShape, w2.matrixShape)
            return w1.isConsistent && w2.isConsistent && a.rows * b.rows == rows && a.columns * b.columns == columns
                ? nil : "lokr_w1 \(a) and lokr_w2 \(b) do not make a weight of shape \(shape)"
        }
    }

    /// Adds `scale` times this change to `weight` (float32, of a shape `mismatch(for:)` accepted).
    func add(to weight: inout Tensor, scale: Float) {
        let rows = weight.shape[0], columns = weight.count / rows
        switch self {
        case .lowRank(let up, let down, let alpha):
            let rank = down.shape[0]
            BLAS.sgemm(
                m: rows, n: columns, k: rank, alpha: scale * (alpha ?? Float(rank)) / Float(rank),
                a: up.storage.pointer, lda: rank, b: down.storage.pointer, ldb: columns, beta: 1,
                c: weight.storage.pointer, ldc: columns)
        case .hadamard(let w1a, let w1b, let w2a, let w2b, let alpha):
            let rank = w1b.shape[0]
            let first = w1a.matmul(w1b.reshaped([rank, columns]))
            let second = w2a.matmul(w2b.reshaped([w2b.shape[0], columns]))
            let factor = scale * (alpha ?? Float(rank)) / Float(rank)
            let out = weight.storage.pointer, a = first.storage.pointer, b = second.storage.pointer
            for index in 0..<weight.count { out[index] += factor * a[index] * b[index] }
        case .kronecker(let w1, let w2, let alpha):
            let rank = w2.rank ?? w1.rank
            let factor = scale * (rank.flatMap { rank in alpha.map { $0 / Float(rank) } } ?? 1)
            Self.addKronecker(w1.matrix, w2.matrix, factor: factor, to: &weight)
        }
    }

    /// `weight += factor * kron(a, b)`, the product laid out as `[a.rows * b.rows, a.columns * b.columns]`.
    private static func addKronecker(_ a: Tensor, _ b: Tensor, factor: Float, to weight: inout Tensor) {
        let (aRows, aColumns, bRows, bColumns) = (a.shape[0], a.shape[1], b.shape[0], b.shape[1])
        let columns = aColumns * bColumns
        let out = weight.storage.pointer, x = a.storage.pointer, y = b.storage.pointer
        let kernels = Kernels.current
        for i in 0..<aRows {
            for j in 0..<aColumns {
                let scaled = factor * x[i * aColumns + j]
                for p in 0..<bRows {
                    let row = out + (i * bRows + p) * columns + j * bColumns
                    kernels.add(row, y + p * bColumns, scaledBy: scaled, count: bColumns, into: row)
                }
            }
        }
    }
}
