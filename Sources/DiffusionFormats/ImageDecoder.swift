import DiffusionCore
import Foundation

/// The one entry point for image bytes from a request or an asset: PNG or JPEG, told apart
/// by their first bytes (never by a file name or media type), decoded to 8-bit RGB as
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` gives them.
public enum ImageDecoder {
    /// The formats `decode` accepts, with the bytes each one starts with.
    public enum Format: String, Sendable {
        case png = "PNG"
        case jpeg = "JPEG"

        /// The format whose signature `data` starts with, or nil.
        public init?(sniffing data: Data) {
            if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
                self = .png
            } else if data.starts(with: [0xFF, 0xD8, 0xFF]) {
                self = .jpeg
            } else {
                return nil
            }
        }
    }

    /// Decodes a PNG or JPEG held in memory.
    ///
    /// - Throws: `ImageDecodingError`: `.unsupportedFormat` when the bytes start like
    ///   neither format, otherwise the format decoder's `.corrupt`, `.empty` or `.tooLarge`.
    public static func decode(_ data: Data) throws -> RGBImage {
        switch Format(sniffing: data) {
        case .png: return try PNG.decode(data)
        case .jpeg: return try JPEG.decode(data)
        case nil: throw ImageDecodingError(.unsupportedFormat, format: "image", message: unknownFormatMessage(data))
        }
    }

    /// Decodes the PNG or JPEG file at `url`.
    ///
    /// - Throws: `ImageDecodingError`, or `FileReadError` when the file cannot be read or is not
    ///   a regular file.
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        try decode(RegularFile.read(url))
    }

    private static func unknownFormatMessage(_ data: Data) -> String {
        guard !data.isEmpty else { return "there are no bytes (expected a PNG or JPEG file)" }
        let start = data.prefix(8).map { String(format: "%02X", $0) }.joined(separator: " ")
        return "the data is neither PNG nor JPEG (it starts with bytes \(start))"
    }
}
