// Data URLs as requests send images: parse the URL, then decode the image it carries.
import FuzzDriver
@testable import DiffusionFormats
import Foundation

func fuzzDataURL(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    _ = DataURL.isDataURL(text)
    if let bytes = try? DataURL.decode(text) {
        _ = try? ImageDecoder.decode(bytes)
    }
    return 0
}

@_cdecl("FuzzDataURL_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzDataURL)
}
