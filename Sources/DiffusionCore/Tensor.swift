import Foundation

/// The memory behind a tensor: 64-byte aligned float32, returned with its last reference
/// (large blocks to `BlockPool`, which hands them to the next tensor of about that size).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let block: BlockPool.Block

    public init(count: Int) {
        precondition(count >= 0, "negative element count")
        block = BlockPool.shared.take(count)
        pointer = block.pointer
        self.count = count
    }

    deinit { BlockPool.shared.give(block) }
}

/// A dense row-major float32 array with a shape.
///
/// Image-like tensors are NHWC throughout the runtime ([batch, height, width, channels]):
/// a 1x1 convolution is then a plain matrix product and a transformer block's
/// `(batch, tokens, channels)` view is free. Tensors are values: mutation copies shared storage.
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    public private(set) var storage: TensorStorage

    /// A tensor of `shape` whose elements are all `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        storage.pointer.initialize(repeating: value, count: storage.count)
    }

    /// A tensor of `shape` holding `values` in row-major order.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        storage = TensorStorage(count: values.count)
        values.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    /// A tensor of `shape` whose memory the caller fills (left uninitialized).
    public init(uninitializedShape shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// Reads the elements without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements, first copying storage shared with another tensor.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(count: count)
            copy.pointer.initialize(from: storage.pointer, count: count)
            storage = copy
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The same elements under another shape of equal element count; -1 stands for the rest.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            resolved[hole] = known == 0 ? 0 : count / known
        }
        precondition(resolved.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var result = self
        result.shape = resolved
        return result
    }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}
