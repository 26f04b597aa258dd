import Foundation

/// The parsed and validated header of a safetensors file. Every rule is checked here,
/// before a byte of tensor data is touched, so a file that parses can be read safely.
struct SafeTensorsHeader {
    let tensors: [String: SafeTensors.TensorInfo]
    let metadata: [String: String]
    /// Where the data section starts in the file.
    let dataStart: Int

    /// Parses the header at the start of `file` (the whole file's bytes).
    init(file: UnsafeRawBufferPointer, path: String) throws {
        guard file.count >= 8 else {
            throw SafeTensorsError(.fileTooShort, file: path, "\(file.count) bytes is too short for a safetensors file (8-byte header length)")
        }
        let length = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard length <= SafeTensors.maximumHeaderSize, Int(length) <= file.count - 8 else {
            throw SafeTensorsError(.invalidHeaderLength, file: path,
                                   "header length \(length) does not fit in the \(file.count)-byte file (or exceeds \(SafeTensors.maximumHeaderSize))")
        }
        dataStart = 8 + Int(length)
        let json = try Self.decodeJSON(Data(file[8..<dataStart]), path: path)
        metadata = try Self.validateMetadata(json.metadata, path: path)
        let dataSize = file.count - dataStart
        var tensors: [String: SafeTensors.TensorInfo] = [:]
        for (name, entry) in json.entries {
            tensors[name] = try Self.validate(entry, name: name, dataSize: dataSize, path: path)
        }
        try Self.checkNoOverlap(tensors, path: path)
        self.tensors = tensors
    }

    private static func decodeJSON(_ data: Data, path: String) throws -> HeaderJSON {
        do {
            return try JSONDecoder().decode(HeaderJSON.self, from: data)
        } catch {
            throw SafeTensorsError(.invalidHeader, file: path, "the header is not a JSON object: \(describeDecodingError(error))")
        }
    }

    private static func validateMetadata(_ metadata: Result<[String: String], Error>?, path: String) throws -> [String: String] {
        do {
            return try metadata?.get() ?? [:]
        } catch {
            throw SafeTensorsError(.invalidMetadata, file: path, "__metadata__ is not a map of strings to strings: \(describeDecodingError(error))")
        }
    }

    private static func validate(
        _ decoded: Result<EntryJSON, Error>, name: String, dataSize: Int, path: String
    ) throws -> SafeTensors.TensorInfo {
        func failure(_ kind: SafeTensorsError.Kind, _ reason: String) -> SafeTensorsError {
            SafeTensorsError(kind, file: path, tensor: name, reason)
        }
        let entry: EntryJSON
        do { entry = try decoded.get() } catch { throw failure(.invalidEntry, "malformed entry: \(describeDecodingError(error))") }
        guard let dtype = SafeTensors.DType(rawValue: entry.dtype) else {
            throw failure(.unknownDType, "unknown dtype \"\(entry.dtype)\"")
        }
        guard let byteCount = byteCount(of: entry.shape, dtype: dtype) else {
            throw failure(.invalidShape, "shape \(entry.shape) has a negative dimension or too many elements")
        }
        guard entry.data_offsets.count == 2, entry.data_offsets[0] >= 0, entry.data_offsets[0] <= entry.data_offsets[1] else {
            throw failure(.invalidOffsets, "data_offsets \(entry.data_offsets) is not [begin, end] with 0 <= begin <= end")
        }
        let offsets = entry.data_offsets[0]..<entry.data_offsets[1]
        guard offsets.count == byteCount else {
            throw failure(.sizeMismatch, "data_offsets \(entry.data_offsets) span \(offsets.count) bytes; \(dtype.rawValue) \(entry.shape) needs \(byteCount)")
        }
        guard offsets.upperBound <= dataSize else {
            throw failure(.offsetsOutsideData, "data_offsets \(entry.data_offsets) run past the \(dataSize)-byte data section")
        }
        return SafeTensors.TensorInfo(dtype: dtype, shape: entry.shape, dataOffsets: offsets)
    }

    /// The bytes a tensor of `shape` takes, or nil for a negative dimension or an overflow.
    private static func byteCount(of shape: [Int], dtype: SafeTensors.DType) -> Int? {
        var product = dtype.size
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// Sorted by start, each non-empty range must begin at or after the previous one's end.
    /// Empty tensors own no bytes, so they cannot overlap anything.
    private static func checkNoOverlap(_ tensors: [String: SafeTensors.TensorInfo], path: String) throws {
        let ranges = tensors.filter { !$0.value.dataOffsets.isEmpty }
            .sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
        for (previous, next) in zip(ranges, ranges.dropFirst())
        where next.value.dataOffsets.lowerBound < previous.value.dataOffsets.upperBound {
            throw SafeTensorsError(
                .overlappingTensors, file: path, tensor: next.key,
                "data_offsets \(next.value.dataOffsets) overlap those of \"\(previous.key)\" \(previous.value.dataOffsets)")
        }
    }
}

/// The header's JSON, decoded leniently: each entry keeps its own decoding result, so a bad
/// entry is reported with its name rather than as an anonymous JSON failure.
private struct HeaderJSON: Decodable {
    var metadata: Result<[String: String], Error>?
    var entries: [(String, Result<EntryJSON, Error>)] = []

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: NameKey.self)
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            if key.stringValue == "__metadata__" {
                metadata = Result { try container.decode([String: String].self, forKey: key) }
            } else {
                entries.append((key.stringValue, Result { try container.decode(EntryJSON.self, forKey: key) }))
            }
        }
    }
}

/// One tensor's entry; the property names are the format's keys.
private struct EntryJSON: Decodable {
    let dtype: String
    let shape: [Int]
    let data_offsets: [Int]
}

private struct NameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
