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
public final class SafeTensorsFile: TensorFile, @unchecked Sendable {
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

    /// Calls `body` with a tensor's stored bytes, then releases their pages (reading it again
    /// loads them again), so a loaded model does not keep its checkpoint resident too.
    /// `tensor(named:)` and `weights(named:)` (`TensorFile`) read through this.
    ///
    /// - Throws: `SafeTensorsError` of kind `.tensorNotFound`.
    public func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let info = tensors[name] else {
            throw SafeTensorsError(.tensorNotFound, file: url.path, tensor: name, "no tensor of that name")
        }
        let start = dataStart + info.dataOffsets.lowerBound
        let range = start..<start + info.dataOffsets.count
        defer { file.release(range) }
        return try body(UnsafeRawBufferPointer(rebasing: file.bytes[range]))
    }
}
