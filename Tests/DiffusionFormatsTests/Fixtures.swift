import DiffusionCore
import DiffusionFormats
import Foundation

/// Tests/Goldens/formats, made by its generate.py with the pinned reference venv.
let goldens = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/formats")

/// A fresh folder under the system temporary directory, removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("DiffusionFormatsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to a file named `name` in the folder.
    func write(_ bytes: [UInt8], named name: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
}

/// A safetensors file from its parts: the length prefix (the header's own length unless
/// `claimedLength` overrides it), the header text, then `data`.
func safetensorsBytes(header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    let length = claimedLength ?? UInt64(json.count)
    return withUnsafeBytes(of: length.littleEndian, Array.init) + json + data
}

/// A little-endian F32 byte image of `values`.
func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
}

/// The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320), bit by bit:
/// slow and obviously right, enough for test files of a few hundred bytes.
func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
