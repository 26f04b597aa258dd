// Follows Pillow's JpegImagePlugin.py / libImaging/JpegDecode.c, Convert.c (cmyk2rgb) and
// ImageOps.exif_transpose.
import CJPEG
import DiffusionCore
import Foundation

/// JPEG decoding to 8-bit RGB over libjpeg-turbo (through the CJPEG shim).
///
/// Decoding matches `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`: libjpeg's
/// default IDCT (ISLOW) and fancy upsampling, as Pillow uses them; gray replicated to RGB;
/// four-component files read as Adobe's inverted CMYK and converted with Pillow's formula;
/// then the EXIF orientation (or, without one, XMP's `tiff:Orientation`) applied.
public enum JPEG {
    /// Decodes a JPEG file held in memory.
    ///
    /// - Throws: `ImageDecodingError`: `.corrupt` for bytes that are not a complete, intact
    ///   JPEG (truncated before the last row, bad markers, unsupported precision or
    ///   component count); `.empty` / `.tooLarge` from the frame header, before any pixel
    ///   memory is allocated.
    public static func decode(_ data: Data) throws -> RGBImage {
        if let (width, height) = frameSize([UInt8](data.prefix(maximumHeaderScan))) {
            try ImageDecodingError.checkSize(width: width, height: height, format: "JPEG")
        }
        return try data.withUnsafeBytes { bytes in
            var error = cjpeg_error()
            guard let decoder = cjpeg_decoder_open(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &error)
            else { throw ImageDecodingError(.corrupt, format: "JPEG", message: message(error)) }
            defer { cjpeg_decoder_close(decoder) }
            let width = Int(cjpeg_decoder_width(decoder)), height = Int(cjpeg_decoder_height(decoder))
            // Repeats the check above for files whose frame header lies past the scanned
            // prefix, so the allocation below is guarded whatever path led here.
            try ImageDecodingError.checkSize(width: width, height: height, format: "JPEG")
            let components = Int(cjpeg_decoder_components(decoder))
            // Read before decoding: libjpeg frees the saved segments when it finishes.
            let orientation = ExifOrientation(app1Segments: app1Segments(decoder))
            var samples = [UInt8](repeating: 0, count: width * height * components)
            let status = samples.withUnsafeMutableBufferPointer { cjpeg_decoder_read(decoder, $0.baseAddress!, &error) }
            guard status == 0 else { throw ImageDecodingError(.corrupt, format: "JPEG", message: message(error)) }
            let image = RGBImage(width: width, height: height, pixels: rgb(samples, components: components))
            return orientation.transpose(image)
        }
    }

    /// Decodes the JPEG file at `url`.
    ///
    /// - Throws: `ImageDecodingError`, or `FileReadError` when the file cannot be read or is not
    ///   a regular file.
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        try decode(RegularFile.read(url))
    }

    /// Samples of 1 (gray), 3 (RGB) or 4 (stored CMYK) components as RGB, as Pillow's
    /// `convert("RGB")` makes them from modes "L", "RGB" and "CMYK".
    private static func rgb(_ samples: [UInt8], components: Int) -> [UInt8] {
        switch components {
        case 1:
            var rgb = [UInt8](repeating: 0, count: samples.count * 3)
            for (pixel, gray) in samples.enumerated() {
                rgb[3 * pixel] = gray
                rgb[3 * pixel + 1] = gray
                rgb[3 * pixel + 2] = gray
            }
            return rgb
        case 3: return samples
        default: return cmykToRGB(samples)
        }
    }

    /// Pillow reads four-component JPEGs with the "CMYK;I" unpacker (Adobe stores CMYK
    /// inverted) and converts with `cmyk2rgb`: `(255 - K) - C * (255 - K) / 255`, rounded
    /// by its MULDIV255. With the inversion, `255 - K` is the stored K sample.
    private static func cmykToRGB(_ samples: [UInt8]) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: samples.count / 4 * 3)
        for pixel in 0..<samples.count / 4 {
            let notK = Int(samples[4 * pixel + 3])
            for channel in 0..<3 {
                let ink = 255 - Int(samples[4 * pixel + channel])
                let product = ink * notK + 128
                rgb[3 * pixel + channel] = UInt8(clamping: notK - (((product >> 8) + product) >> 8))
            }
        }
        return rgb
    }

    /// How far into the file `frameSize` looks: EXIF thumbnails and ICC profiles can put the
    /// frame header a few hundred kilobytes in.
    private static let maximumHeaderScan = 1 << 20

    /// The dimensions in the first SOF segment, read here so that empty and over-large
    /// images are refused with their own error before libjpeg runs (it calls a zero
    /// height corrupt). Nil when the segments before it cannot be walked; libjpeg then
    /// says what is wrong.
    private static func frameSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        func bigEndian(_ at: Int) -> Int? { at + 1 < bytes.count ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : nil }
        var at = 2  // after SOI
        while at + 1 < bytes.count, bytes[at] == 0xFF {
            let marker = bytes[at + 1]
            if marker == 0xFF { at += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { at += 2; continue }  // no length
            if marker == 0xDA { return nil }  // start of scan before any frame header
            let isFrame = (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker)
            if isFrame, let height = bigEndian(at + 5), let width = bigEndian(at + 7) { return (width, height) }
            guard let length = bigEndian(at + 2) else { return nil }
            at += 2 + length
        }
        return nil
    }

    private static func app1Segments(_ decoder: OpaquePointer) -> [Data] {
        var segments: [Data] = []
        var size = 0
        while let bytes = cjpeg_decoder_app1(decoder, Int32(segments.count), &size) {
            segments.append(Data(bytes: bytes, count: size))
        }
        return segments
    }

    private static func message(_ error: cjpeg_error) -> String {
        withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
