import DiffusionCore
import Foundation

/// What a tensor file says about one tensor before it is read.
public protocol TensorFileEntry: Sendable {
    var dtype: SafeTensors.DType { get }
    var shape: [Int] { get }
}

/// A file of named tensors, whatever its container: safetensors, a PyTorch checkpoint, or a
/// renamed view of either (a single-file checkpoint's component). Models load through this, so
/// a `.bin` or `.ckpt` loads wherever a `.safetensors` does.
public protocol TensorFile: AnyObject, Sendable {
    associatedtype Entry: TensorFileEntry

    /// The file the tensors come from (named in every error).
    var url: URL { get }
    /// The tensor names, sorted.
    var names: [String] { get }
    /// The dtype and shape of a tensor, or nil when there is none of that name.
    func info(_ name: String) -> Entry?
    /// Calls `body` with a tensor's elements: contiguous, row-major, little-endian, in its dtype.
    func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T
}

extension TensorFile {
    /// Reads a tensor, converted to float32 (F16, BF16, F64 and the integer and bool dtypes).
    public func tensor(named name: String) throws -> Tensor {
        let entry = try require(name)
        return try withElements(name) { source in
            var tensor = Tensor(uninitializedShape: entry.shape)
            tensor.withUnsafeMutableBufferPointer { SafeTensors.convert(source, from: entry.dtype, into: $0) }
            return tensor
        }
    }

    /// Reads a layer's weights: F16 stays float16 (half the memory of float32, widened exactly
    /// when the layer runs), every other dtype is converted to float32.
    public func weights(named name: String) throws -> WeightArray {
        let entry = try require(name)
        guard entry.dtype == .f16 else { return WeightArray(try tensor(named: name)) }
        return try withElements(name) { WeightArray(float16Bytes: $0, shape: entry.shape) }
    }

    private func require(_ name: String) throws -> Entry {
        guard let entry = info(name) else {
            throw SafeTensorsError(.tensorNotFound, file: url.path, tensor: name, "no tensor of that name")
        }
        return entry
    }
}

extension SafeTensors.TensorInfo: TensorFileEntry {}
