// Image bytes (PNG, JPEG with its EXIF): decode to an RGBImage or throw, never trap or overrun.
import FuzzDriver
@testable import DiffusionFormats
import Foundation

func fuzzImage(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let image = try? ImageDecoder.decode(data) {
        precondition(image.pixels.count == image.width * image.height * 3, "pixel count does not match the size")
    }
    return 0
}

@_cdecl("FuzzImage_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzImage)
}
