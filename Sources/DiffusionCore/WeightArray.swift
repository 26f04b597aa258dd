/// The memory behind float16 weights: 64-byte aligned, freed with its last reference.
public final class HalfStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float16>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0, "negative element count")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
        pointer = raw.bindMemory(to: Float16.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { pointer.deallocate() }
}

/// A layer's weights as they rest in memory: float32, or a checkpoint's float16 kept as float16
/// (half the memory) and widened one layer at a time when the layer runs.
///
/// Widening is exact, so a float16 checkpoint computes the same numbers either way; what it costs
/// is a pass over the layer's weights per call, small beside the products that use them
/// (Docs/PERFORMANCE.md, "Memory").
public struct WeightArray: @unchecked Sendable {
    public let shape: [Int]
    let storage: Storage

    enum Storage {
        case float32(Tensor)
        case float16(HalfStorage)
    }

    /// Float32 weights.
    public init(_ tensor: Tensor) {
        shape = tensor.shape
        storage = .float32(tensor)
    }

    /// Float16 weights copied from little-endian bytes at any alignment (a checkpoint's data).
    public init(float16Bytes bytes: UnsafeRawBufferPointer, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(bytes.count == 2 * count, "\(bytes.count) bytes of float16 for shape \(shape)")
        let half = HalfStorage(count: count)
        if let source = bytes.baseAddress { UnsafeMutableRawPointer(half.pointer).copyMemory(from: source, byteCount: bytes.count) }
        self.init(shape: shape, storage: .float16(half))
    }

    private init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    public var count: Int { shape.reduce(1, *) }

    /// True when the weights are held as float16.
    public var isFloat16: Bool {
        if case .float16 = storage { return true }
        return false
    }

    /// The bytes the weights occupy.
    public var byteCount: Int { count * (isFloat16 ? 2 : 4) }

    /// The same weights under another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> WeightArray {
        precondition(newShape.reduce(1, *) == count, "cannot reshape weights \(shape) to \(newShape)")
        switch storage {
        case .float32(let tensor): return WeightArray(tensor.reshaped(newShape))
        case .float16: return WeightArray(shape: newShape, storage: storage)
        }
    }

    /// A float32 copy.
    public func widened() -> Tensor {
        let tensor = Tensor(uninitializedShape: shape)
        copyFloat32(0..<count, into: tensor.storage.pointer)
        return tensor
    }

    /// Elements `range` as float32, written to `destination`.
    func copyFloat32(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        switch storage {
        case .float32(let tensor): destination.update(from: tensor.storage.pointer + range.lowerBound, count: range.count)
        case .float16(let half): Kernels.current.widen(half.pointer + range.lowerBound, into: destination, count: range.count)
        }
    }

    /// Calls `body` with the weights as float32: in place, or widened into a pooled scratch buffer.
    func withFloat32<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        switch storage {
        case .float32(let tensor): return try body(tensor.storage.pointer)
        case .float16(let half):
            let kernels = Kernels.current
            return try ScratchPool.withFloats(count) { buffer in
                Parallel.forEachRange(count, minimumPerThread: 1 << 16) { range in
                    kernels.widen(half.pointer + range.lowerBound, into: buffer + range.lowerBound, count: range.count)
                }
                return try body(buffer)
            }
        }
    }

    /// The same weights, same precision, in another layout: element `i` moves to `destination(i)`
    /// of an array of `newShape`, whose unfilled elements are zero.
    func rearranged(to newShape: [Int], _ destination: (Int) -> Int) -> WeightArray {
        let newCount = newShape.reduce(1, *)
        switch storage {
        case .float32(let tensor):
            let result = Tensor(shape: newShape)
            scatter(tensor.storage.pointer, count: count, into: result.storage.pointer, destination)
            return WeightArray(result)
        case .float16(let half):
            let result = HalfStorage(count: newCount)
            result.pointer.initialize(repeating: 0, count: newCount)
            scatter(half.pointer, count: count, into: result.pointer, destination)
            return WeightArray(shape: newShape, storage: .float16(result))
        }
    }
}

/// `destination[target(i)] = source[i]` for every i, in parallel (a permutation writes each target once).
private func scatter<Element>(
    _ source: UnsafePointer<Element>, count: Int, into destination: UnsafeMutablePointer<Element>,
    _ target: (Int) -> Int
) {
    Parallel.forEachRange(count, minimumPerThread: 1 << 16) { range in
        for i in range { destination[target(i)] = source[i] }
    }
}
