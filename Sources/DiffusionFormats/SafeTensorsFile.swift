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
/// F16, BF16, F64 and the integer and bool dtypes are converted to float32 on read.
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
        guard let info = tensors[name] else {
            throw SafeTensorsError(.tensorNotFound, file: url.path, tensor: name, "no tensor of that name")
        }
        var tensor = Tensor(uninitializedShape: info.shape)
        let start = dataStart + info.dataOffsets.lowerBound
        let source = UnsafeRawBufferPointer(rebasing: file.bytes[start..<start + info.dataOffsets.count])
        tensor.withUnsafeMutableBufferPointer { SafeTensors.convert(source, from: info.dtype, into: $0) }
        file.release(start..<start + info.dataOffsets.count)
        return tensor
    }
}
