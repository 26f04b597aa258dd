// EXIF and XMP orientation: the input is one APP1 segment's payload, read as the first EXIF
// segment (input after the "Exif\0\0" signature) and as an XMP packet; the orientation found
// then transposes a 3x2 image, whose size and pixels must survive.
import FuzzDriver
@testable import DiffusionCore
@testable import DiffusionFormats
import Foundation

private let exif = Data("Exif\0\0".utf8)
private let xmp = Data("http://ns.adobe.com/xap/1.0/\0".utf8)
private let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })

func fuzzExif(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let payload = start.map { Data(bytes: $0, count: count) } ?? Data()
    for segments in [[exif + payload], [xmp + payload], [payload]] {
        let upright = ExifOrientation(app1Segments: segments).transpose(image)
        precondition(upright.width * upright.height == 6, "the transposed image lost pixels")
        precondition(upright.pixels.sorted() == image.pixels, "the transposed image changed pixel values")
    }
    return 0
}

@_cdecl("FuzzExif_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzExif)
}
