/// Why image bytes could not become an `RGBImage`.
///
/// Shared by every decoder (PNG now, JPEG later) so that callers turn any of them into
/// one "bad image" answer without knowing the format.
public struct ImageDecodingError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Not the format, truncated, or damaged (bad CRC, bad compressed data, ...).
        case corrupt
        /// A width or height of zero.
        case empty
        /// More pixels than `ImageDecodingError.maximumPixelCount`.
        case tooLarge
        /// Bytes of neither accepted format (see `ImageDecoder`).
        case unsupportedFormat
    }

    /// The most pixels a decoder accepts: the specification's 64 megapixels, read as
    /// 64,000,000 (so 8000 x 8000 passes). Checked from the header, before pixels exist.
    public static let maximumPixelCount = 64_000_000

    public let kind: Kind
    /// "PNG", "JPEG", or "image" when the format is not known.
    public let format: String
    public let message: String

    public init(_ kind: Kind, format: String, message: String) {
        self.kind = kind
        self.format = format
        self.message = message
    }

    public var description: String { "cannot decode \(format == "image" ? "the" : format) image: \(message)" }

    /// Refuses empty and over-large images from their header dimensions.
    static func checkSize(width: Int, height: Int, format: String) throws {
        guard width > 0, height > 0 else {
            throw ImageDecodingError(.empty, format: format, message: "the image is \(width)x\(height) pixels")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maximumPixelCount else {
            throw ImageDecodingError(
                .tooLarge, format: format,
                message: "\(width)x\(height) pixels is more than the limit of \(maximumPixelCount)")
        }
    }
}

/// Why an image could not be encoded or saved.
public struct ImageEncodingError: Error, CustomStringConvertible, Sendable {
    public let format: String
    public let message: String

    public init(format: String, message: String) {
        self.format = format
        self.message = message
    }

    public var description: String { "cannot encode \(format) image: \(message)" }
}
