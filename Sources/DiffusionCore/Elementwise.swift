import Foundation

extension Tensor {
    /// Applies `transform` to every element, in parallel, into a new tensor.
    @inlinable
    public func map(_ transform: @escaping (Float) -> Float) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEachRange(count, minimumPerThread: 1 << 14) { range in
            for i in range { dst[i] = transform(src[i]) }
        }
        return result
    }

    /// Combines two tensors of one shape element by element, in parallel.
    @inlinable
    public func zipMap(_ other: Tensor, _ combine: @escaping (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "elementwise shapes \(shape) and \(other.shape) differ")
        let result = Tensor(uninitializedShape: shape)
        let a = storage.pointer, b = other.storage.pointer, dst = result.storage.pointer
        Parallel.forEachRange(count, minimumPerThread: 1 << 14) { range in
            for i in range { dst[i] = combine(a[i], b[i]) }
        }
        return result
    }

    // The arithmetic runs in the instruction set's vector kernels (Sources/CKernels).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.combined(with: rhs) { $0.add($1, $2, scaledBy: 1, count: $3, into: $4) } }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.combined(with: rhs) { $0.add($1, $2, scaledBy: -1, count: $3, into: $4) } }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.combined(with: rhs) { $0.multiply($1, $2, count: $3, into: $4) } }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.combined(with: lhs) { $0.scale($1, by: rhs, count: $3, into: $4) } }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 / rhs } }

    /// `body(kernels, a, b, count, destination)` over this tensor's and `other`'s elements, split
    /// across threads, into a new tensor.
    private func combined(
        with other: Tensor,
        _ body: @escaping (Kernels, UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        precondition(shape == other.shape, "elementwise shapes \(shape) and \(other.shape) differ")
        let result = Tensor(uninitializedShape: shape)
        let a = storage.pointer, b = other.storage.pointer, dst = result.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(count, minimumPerThread: 1 << 14) { range in
            body(kernels, a + range.lowerBound, b + range.lowerBound, range.count, dst + range.lowerBound)
        }
        return result
    }

    /// Adds `other` in place (the residual connections).
    public mutating func add(_ other: Tensor, scale: Float = 1) {
        precondition(shape == other.shape, "elementwise shapes \(shape) and \(other.shape) differ")
        let b = other.storage.pointer
        let kernels = Kernels.current
        withUnsafeMutableBufferPointer { dst in
            let a = dst.baseAddress!
            Parallel.forEachRange(dst.count, minimumPerThread: 1 << 14) { range in
                let i = range.lowerBound
                kernels.add(a + i, b + i, scaledBy: scale, count: range.count, into: a + i)
            }
        }
    }

    /// Adds a vector along the last axis (a bias over channels or features).
    public func addingRow(_ row: Tensor) -> Tensor {
        let width = row.count
        precondition(shape.last == width, "a row of \(width) does not broadcast over \(shape)")
        let result = Tensor(uninitializedShape: shape)
        let src = storage.pointer, r = row.storage.pointer, dst = result.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(count / width, minimumPerThread: max(1, (1 << 14) / width)) { rows in
            for i in rows { kernels.add(src + i * width, r, scaledBy: 1, count: width, into: dst + i * width) }
        }
        return result
    }
}

/// The activations of the SD models, elementwise.
public enum Activation: Sendable {
    case silu, geluErf, geluTanh, quickGELU

    @inlinable
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + expf(-x))
        case .geluErf: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .geluTanh: return 0.5 * x * (1 + tanhf(0.79788456080286536 * (x + 0.044715 * x * x * x)))
        case .quickGELU: return x / (1 + expf(-1.702 * x))
        }
    }

    /// Parses a transformers/diffusers activation name (`silu`, `gelu`, `gelu_pytorch_tanh`, `quick_gelu`).
    public init?(name: String) {
        switch name {
        case "silu", "swish": self = .silu
        case "gelu": self = .geluErf
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "quick_gelu": self = .quickGELU
        default: return nil
        }
    }
}

extension Tensor {
    /// The activation of every element, by the instruction set's vector kernel.
    public func applying(_ activation: Activation) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let src = storage.pointer, dst = result.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(count, minimumPerThread: 1 << 14) { range in
            kernels.apply(activation, src + range.lowerBound, dst + range.lowerBound, count: range.count)
        }
        return result
    }
}
