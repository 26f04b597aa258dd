import DiffusionCore
import Foundation

/// Why a string is not a usable image data URL.
public struct DataURLError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "invalid data URL: \(message)" }
}

/// RFC 2397 `data:` URLs carrying a PNG or JPEG in base64, the way requests send images:
/// `data:image/png;base64,iVBORw0...`.
///
/// Accepted: the media types `image/png`, `image/jpeg` and `image/jpg` (any case, with or
/// without parameters such as `;charset=...`) or none at all; whitespace and line breaks
/// anywhere in the base64 text; missing `=` padding. The media type is a hint only: the
/// decoder tells PNG from JPEG by the bytes, so a mislabelled PNG still decodes.
public enum DataURL {
    private static let acceptedMediaTypes: Set<String> = ["", "image/png", "image/jpeg", "image/jpg"]

    private static let scheme = Array("data:".utf8)

    /// Whether `string` is written as a data URL (so callers can tell it from an asset id).
    public static func isDataURL(_ string: String) -> Bool {
        schemeEnd(string.utf8) != nil
    }

    /// The bytes a data URL carries.
    ///
    /// - Throws: `DataURLError` naming what is wrong: not a data URL, no comma, a media type
    ///   that is not PNG or JPEG, a payload that is not base64, or no bytes at all.
    public static func decode(_ string: String) throws -> Data {
        // Byte-wise throughout: requests carry megabytes here, and Character-wise String
        // scanning costs about a second per 10 MB.
        let text = Array(string.utf8)
        guard let afterScheme = schemeEnd(text) else {
            let shown = String(decoding: text.drop(while: isBase64Whitespace).prefix(20), as: UTF8.self)
            throw DataURLError("it does not start with \"data:\" (got \"\(shown)...\")")
        }
        guard let comma = text[afterScheme...].firstIndex(of: UInt8(ascii: ",")) else {
            throw DataURLError("there is no comma between the media type and the data")
        }
        try checkHeader(String(decoding: text[afterScheme..<comma], as: UTF8.self))
        return try base64Bytes(text[(comma + 1)...])
    }

    /// Decodes the PNG or JPEG image a data URL carries.
    ///
    /// - Throws: `DataURLError` for the URL, `ImageDecodingError` for the image in it.
    public static func decodeImage(_ string: String) throws -> RGBImage {
        try ImageDecoder.decode(decode(string))
    }

    /// `[<media type>][;parameter=value]*;base64`.
    private static func checkHeader(_ header: String) throws {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.count > 1, parts.last == "base64" else {
            throw DataURLError("the data must be base64 (\"data:image/png;base64,...\"), got \"data:\(header),...\"")
        }
        let mediaType = parts[0]
        guard acceptedMediaTypes.contains(mediaType) else {
            let what = mediaType.hasPrefix("image/") ? "is not a supported image type" : "is not an image type"
            throw DataURLError("media type \"\(mediaType)\" \(what) (use image/png or image/jpeg)")
        }
    }

    private static func base64Bytes(_ payload: ArraySlice<UInt8>) throws -> Data {
        var text = payload.filter { !isBase64Whitespace($0) }
        guard !text.isEmpty else { throw DataURLError("there is no data after the comma") }
        if text.count % 4 != 0 {
            text += [UInt8](repeating: UInt8(ascii: "="), count: 4 - text.count % 4)
        }
        guard let bytes = Data(base64Encoded: Data(text)), !bytes.isEmpty else {
            throw DataURLError("the data is not valid base64")
        }
        return bytes
    }

    /// The index just past a leading `data:` (any case, after ASCII whitespace), or nil.
    private static func schemeEnd<Bytes: Collection<UInt8>>(_ text: Bytes) -> Bytes.Index? {
        let start = text.firstIndex { !isBase64Whitespace($0) } ?? text.endIndex
        let candidate = text[start...].prefix(scheme.count)
        let lowercased = candidate.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return lowercased == scheme ? candidate.endIndex : nil
    }

    private static func isBase64Whitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }
}
