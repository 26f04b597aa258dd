import DiffusionCore
import Foundation

extension SafeTensors {
    /// Writes `tensors` to a safetensors file at `url`, atomically (a temporary file in the
    /// same folder, renamed into place).
    ///
    /// The layout is the one `safetensors.torch.save_file` writes: tensors sorted by name
    /// and packed back to back, a compact JSON header with `__metadata__` first (omitted
    /// when empty), padded with spaces to a multiple of 8 bytes. F16 rounds to nearest even,
    /// as torch's `.half()`.
    ///
    /// - Throws: `SafeTensorsError` of kind `.writeFailed` for duplicate names or a file
    ///   system failure.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], dtype: FloatDType = .f32, metadata: [String: String] = [:], to url: URL
    ) throws {
        func failure(_ reason: String) -> SafeTensorsError { SafeTensorsError(.writeFailed, file: url.path, reason) }
        let sorted = tensors.sorted { $0.name < $1.name }
        if let duplicate = zip(sorted, sorted.dropFirst()).first(where: { $0.0.name == $0.1.name }) {
            throw failure("two tensors are named \"\(duplicate.0.name)\"")
        }
        let header = headerBytes(sorted, dtype: dtype, metadata: metadata)
        try AtomicFile.write(to: url, makeError: failure) { write in
            try header.withUnsafeBytes { try write($0) }
            for (_, tensor) in sorted {
                try tensor.withUnsafeBufferPointer { try writeElements($0, as: dtype, with: write) }
            }
        }
    }

    /// The length prefix and the padded JSON header.
    private static func headerBytes(_ tensors: [(name: String, tensor: Tensor)], dtype: FloatDType, metadata: [String: String]) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.count * dtype.dtype.size
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array("{\(entries.joined(separator: ","))}".utf8)
        // The data section then starts 8-byte aligned, so readers may map it as typed arrays.
        json += repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json
    }

    /// A JSON string literal, escaped as serde_json does.
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Streams elements to `write`, narrowing to F16 a chunk at a time so a large tensor
    /// never needs a second full-size buffer.
    private static func writeElements(
        _ elements: UnsafeBufferPointer<Float>, as dtype: FloatDType, with write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard dtype == .f16 else { return try write(UnsafeRawBufferPointer(elements)) }
        guard let base = elements.baseAddress else { return }
        let chunk = 1 << 16, kernels = Kernels.current
        var narrowed = [Float16](repeating: 0, count: chunk)
        for start in stride(from: 0, to: elements.count, by: chunk) {
            let count = min(chunk, elements.count - start)
            try narrowed.withUnsafeMutableBytes { bytes in
                kernels.narrow(base + start, into: bytes.baseAddress!, count: count)
                try write(UnsafeRawBufferPointer(rebasing: bytes[0..<count * 2]))
            }
        }
    }
}
