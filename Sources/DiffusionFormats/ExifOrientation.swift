// Follows Pillow's ImageOps.exif_transpose and Image.getexif (EXIF IFD0, then XMP).
import DiffusionCore
import Foundation

/// How a camera says its pixels are stored (EXIF tag 0x0112), and the transposition that
/// shows them upright. Values outside 1...8, or unreadable metadata, mean "as stored", as
/// for Pillow, whose `exif_transpose` only acts on 2...8.
enum ExifOrientation: Int {
    case upright = 1, mirrored, rotated180, flipped, transposed, rotated270, transversed, rotated90

    private static let exifSignature = Array("Exif\0\0".utf8)
    private static let xmpSignature = Array("http://ns.adobe.com/xap/1.0/\0".utf8)

    /// Reads the orientation from a JPEG's APP1 segments as Pillow does: the first EXIF
    /// segment's IFD0 tag; only when that tag is absent, the last XMP packet's
    /// `tiff:Orientation` (first match of `tiff:Orientation(="|>)([0-9])`).
    init(app1Segments: [Data]) {
        let exif = app1Segments.first { $0.starts(with: Self.exifSignature) }
        var value = exif.flatMap { Self.tiffOrientation([UInt8]($0.dropFirst(Self.exifSignature.count))) }
        if value == nil, let xmp = app1Segments.last(where: { $0.starts(with: Self.xmpSignature) }) {
            value = Self.xmpOrientation([UInt8](xmp.dropFirst(Self.xmpSignature.count)))
        }
        self = value.flatMap(ExifOrientation.init(rawValue:)) ?? .upright
    }

    /// The orientation tag of IFD0 in a TIFF structure: nil when absent or unreadable; a
    /// value Pillow would not act on (0) when present but not a single SHORT or LONG.
    private static func tiffOrientation(_ tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        func integer(at offset: Int, bytes: Int) -> Int? {
            guard offset >= 0, offset + bytes <= tiff.count else { return nil }
            let slice = tiff[offset..<offset + bytes]
            return (littleEndian ? Array(slice.reversed()) : Array(slice)).reduce(0) { $0 << 8 | Int($1) }
        }
        guard integer(at: 2, bytes: 2) == 42, let ifd = integer(at: 4, bytes: 4),
              let entries = integer(at: ifd, bytes: 2)
        else { return nil }
        for entry in 0..<entries {
            let start = ifd + 2 + 12 * entry
            guard let tag = integer(at: start, bytes: 2) else { return nil }
            guard tag == 0x0112 else { continue }
            guard integer(at: start + 4, bytes: 4) == 1 else { return 0 }
            switch integer(at: start + 2, bytes: 2) {
            case 3: return integer(at: start + 8, bytes: 2) ?? 0
            case 4: return integer(at: start + 8, bytes: 4) ?? 0
            default: return 0
            }
        }
        return nil
    }

    private static func xmpOrientation(_ xmp: [UInt8]) -> Int? {
        let key = Array("tiff:Orientation".utf8)
        var searchFrom = 0
        while let found = xmp[searchFrom...].firstRange(of: key) {
            let rest = xmp[found.upperBound...]
            let digit = rest.starts(with: Array("=\"".utf8)) ? rest.dropFirst(2).first
                : rest.first == UInt8(ascii: ">") ? rest.dropFirst().first : nil
            if let digit, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
                return Int(digit - UInt8(ascii: "0"))
            }
            searchFrom = found.lowerBound + 1
        }
        return nil
    }

    /// The image as it should be seen: Pillow's `transpose` with FLIP_LEFT_RIGHT,
    /// ROTATE_180, FLIP_TOP_BOTTOM, TRANSPOSE, ROTATE_270, TRANSVERSE or ROTATE_90 for
    /// orientations 2 to 8.
    func transpose(_ image: RGBImage) -> RGBImage {
        let (w, h) = (image.width, image.height)
        // Output pixel (x, y) reads source pixel `first + x * stepX + y * stepY`.
        let (first, stepX, stepY): (Int, Int, Int)
        switch self {
        case .upright: return image
        case .mirrored: (first, stepX, stepY) = (w - 1, -1, w)
        case .rotated180: (first, stepX, stepY) = ((h - 1) * w + w - 1, -1, -w)
        case .flipped: (first, stepX, stepY) = ((h - 1) * w, 1, -w)
        case .transposed: (first, stepX, stepY) = (0, w, 1)
        case .rotated270: (first, stepX, stepY) = ((h - 1) * w, -w, 1)
        case .transversed: (first, stepX, stepY) = ((h - 1) * w + w - 1, -w, -1)
        case .rotated90: (first, stepX, stepY) = (w - 1, w, -1)
        }
        let swapsAxes = rawValue >= 5
        let (outWidth, outHeight) = swapsAxes ? (h, w) : (w, h)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { out in
                for y in 0..<outHeight {
                    var from = first + y * stepY
                    for x in 0..<outWidth {
                        let to = 3 * (y * outWidth + x)
                        out[to] = source[3 * from]
                        out[to + 1] = source[3 * from + 1]
                        out[to + 2] = source[3 * from + 2]
                        from += stepX
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
