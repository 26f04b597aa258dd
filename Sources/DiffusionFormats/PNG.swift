import CPNG
import DiffusionCore
import Foundation

/// PNG decoding to 8-bit RGB and encoding from it, over libpng (through the CPNG shim).
///
/// Decoding matches `PIL.Image.open(f).convert("RGB")` exactly: every color type, bit
/// depth and interlace; alpha and tRNS dropped without compositing; 16-bit color keeps the
/// high byte; 16-bit gray clamps at 255 (PIL's "I;16" conversion); 1/2/4-bit gray scaled
/// to the full 8-bit range; palettes looked up.
public enum PNG {
    /// Decodes a PNG file held in memory.
    ///
    /// - Throws: `ImageDecodingError`: `.corrupt` for bytes that are not a complete, intact
    ///   PNG; `.empty` / `.tooLarge` from the header, before any pixel memory is allocated.
    public static func decode(_ data: Data) throws -> RGBImage {
        if let (width, height) = headerSize(data) {
            try ImageDecodingError.checkSize(width: width, height: height, format: "PNG")
        }
        return try data.withUnsafeBytes { bytes in
            var error = cpng_error()
            guard let decoder = cpng_decoder_open(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &error) else {
                throw ImageDecodingError(.corrupt, format: "PNG", message: message(error))
            }
            defer { cpng_decoder_close(decoder) }
            let width = Int(cpng_decoder_width(decoder)), height = Int(cpng_decoder_height(decoder))
            // libpng insists on IHDR first, so this repeats the check above; it stays so the
            // allocation below is guarded whatever path led here.
            try ImageDecodingError.checkSize(width: width, height: height, format: "PNG")
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let status = pixels.withUnsafeMutableBufferPointer { cpng_decoder_read_rgb(decoder, $0.baseAddress!, &error) }
            guard status == 0 else { throw ImageDecodingError(.corrupt, format: "PNG", message: message(error)) }
            return RGBImage(width: width, height: height, pixels: pixels)
        }
    }

    /// Decodes the PNG file at `url`.
    ///
    /// - Throws: `ImageDecodingError`, or `FileReadError` when the file cannot be read or is not
    ///   a regular file.
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        try decode(RegularFile.read(url))
    }

    /// Encodes an image as an 8-bit RGB, non-interlaced PNG (libpng's default compression).
    ///
    /// - Throws: `ImageEncodingError` for an empty image or when libpng fails.
    public static func encode(_ image: RGBImage) throws -> Data {
        guard image.width > 0, image.height > 0,
              let width = UInt32(exactly: image.width), let height = UInt32(exactly: image.height)
        else {
            throw ImageEncodingError(format: "PNG", message: "a PNG cannot be \(image.width)x\(image.height) pixels")
        }
        var error = cpng_error()
        var png: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            cpng_encode_rgb(pixels.baseAddress!, width, height, &png, &size, &error)
        }
        guard status == 0, let png else { throw ImageEncodingError(format: "PNG", message: message(error)) }
        defer { cpng_free(png) }
        return Data(bytes: png, count: size)
    }

    /// Encodes `image` and writes it to `url` atomically (a temporary file in the same
    /// folder, renamed into place), so no reader ever sees a partial PNG.
    public static func write(_ image: RGBImage, to url: URL) throws {
        let data = try encode(image)
        try AtomicFile.write(to: url, makeError: { ImageEncodingError(format: "PNG", message: $0) }) { write in
            try data.withUnsafeBytes { try write($0) }
        }
    }

    /// The dimensions in the IHDR chunk, which the format puts first. Read here so that
    /// empty and over-large images are refused with their own error before libpng (which
    /// calls a zero width corrupt) runs or any pixel memory exists. Nil when the bytes do not
    /// start like a PNG; libpng then says what is wrong.
    private static func headerSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
              bytes[12..<16].elementsEqual("IHDR".utf8)
        else { return nil }
        let bigEndian = { (start: Int) in bytes[start..<start + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (bigEndian(16), bigEndian(20))
    }

    private static func message(_ error: cpng_error) -> String {
        withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
