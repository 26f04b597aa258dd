import DiffusionCore
import Foundation

/// A safetensors file, memory-mapped and validated, whose tensors are read as float32.
///
/// ```swift
/// let file = try SafeTensorsFile(contentsOf: url)
/// let weight = try file.tensor(named: "conv_in.weight")
/// ```
/// Opening checks the whole header (see `SafeTensorsError.Kind` for every rule) before
/// any tensor is read, so a truncated or hostile file fails there with a thrown error.
/// `tensor(named:)` converts F16, BF16, F64 and the integer and bool dtypes to float32;
/// `weights(named:)`, which model loading uses for its layers, keeps F16 as float16.
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    /// The tensor names, sorted.
    public let names: [String]
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]

    private let tensors: [String: SafeTensors.TensorInfo]
    private let file: MappedFile
    private let dataStart: Int

    /// Maps and validates the file at `url`.
    ///
    /// - Throws: `SafeTensorsError` naming the file and, where one is at fault, the tensor.
    public init(contentsOf url: URL) throws {
        self.url = url
        file = try MappedFile(url: url) { SafeTensorsError(.unreadableFile, file: url.path, $0) }
        let header = try SafeTensorsHeader(file: file.bytes, path: url.path)
        tensors = header.tensors
        metadata = header.metadata
        dataStart = header.dataStart
        names = header.tensors.keys.sorted()
    }

    /// The dtype, shape and byte range of a tensor, or nil when there is none of that name.
    public func info(_ name: String) -> SafeTensors.TensorInfo? { tensors[name] }

    /// Reads a tensor, converted to float32. The file's pages behind it are released from memory
    /// afterwards (reading it again loads them again), so a loaded model does not keep its
    /// checkpoint resident too.
    ///
    /// - Throws: `SafeTensorsError` of kind `.tensorNotFound`.
    public func tensor(named name: String) throws -> Tensor {
        try read(name) { info, source in
            var tensor = Tensor(uninitializedShape: info.shape)
            tensor.withUnsafeMutableBufferPointer { SafeTensors.convert(source, from: info.dtype, into: $0) }
            return tensor
        }
    }

    /// Reads a layer's weights: F16 stays float16 (half the memory of float32, widened exactly
    /// when the layer runs), every other dtype is converted to float32. Pages are released as
    /// by `tensor(named:)`.
    ///
    /// - Throws: `SafeTensorsError` of kind `.tensorNotFound`.
    public func weights(named name: String) throws -> WeightArray {
        guard tensors[name]?.dtype == .f16 else { return WeightArray(try tensor(named: name)) }
        return try read(name) { info, source in WeightArray(float16Bytes: source, shape: info.shape) }
    }

    /// Calls `body` with a tensor's stored bytes, then releases their pages.
    private func read<T>(_ name: String, _ body: (SafeTensors.TensorInfo, UnsafeRawBufferPointer) -> T) throws -> T {
        guard let info = tensors[name] else {
            throw SafeTensorsError(.tensorNotFound, file: url.path, tensor: name, "no tensor of that name")
        }
        let start = dataStart + info.dataOffsets.lowerBound
        let range = start..<start + info.dataOffsets.count
        defer { file.release(range) }
        return body(info, UnsafeRawBufferPointer(rebasing: file.bytes[range]))
    }
}
