import Foundation

/// Why a safetensors file could not be read or written. The description names the file
/// and, where one is at fault, the tensor.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file cannot be opened, sized or mapped.
        case unreadableFile
        /// Shorter than the 8-byte header length.
        case fileTooShort
        /// The header length runs past the end of the file or past `maximumHeaderSize`.
        case invalidHeaderLength
        /// The header is not a JSON object.
        case invalidHeader
        /// An entry lacks dtype, shape or data_offsets, or one of them has the wrong JSON type.
        case invalidEntry
        /// A dtype this reader does not know.
        case unknownDType
        /// A negative dimension, or an element or byte count that overflows.
        case invalidShape
        /// `data_offsets` does not span exactly the bytes the dtype and shape need.
        case sizeMismatch
        /// `data_offsets` is not a pair `[begin, end]` with `0 <= begin <= end`.
        case invalidOffsets
        /// `data_offsets` reaches past the end of the data section.
        case offsetsOutsideData
        /// Two tensors share bytes.
        case overlappingTensors
        /// `__metadata__` is not a map from strings to strings.
        case invalidMetadata
        /// No tensor of that name.
        case tensorNotFound
        /// Writing failed: duplicate names, or the file system refused.
        case writeFailed
        /// A sharded checkpoint's index (`*.safetensors.index.json`) is malformed, names a shard
        /// outside its folder, or a tensor its shard does not hold.
        case invalidIndex
    }

    public let kind: Kind
    /// The path of the file concerned.
    public let file: String
    /// The tensor at fault, when there is one.
    public let tensor: String?
    public let reason: String

    public init(_ kind: Kind, file: String, tensor: String? = nil, _ reason: String) {
        self.kind = kind
        self.file = file
        self.tensor = tensor
        self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor \"\(tensor)\": \(reason)" }
        return "\(file): \(reason)"
    }
}

extension SafeTensorsError: LocalizedError {
    public var errorDescription: String? { description }
}
