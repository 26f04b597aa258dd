// safetensors files: the header validates or throws, and every tensor of a header that
// validates converts to float32 within the file's bytes (AddressSanitizer checks the reads).
import FuzzDriver
@testable import DiffusionFormats
import Foundation

func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count)
    guard let header = try? SafeTensorsHeader(file: file, path: "fuzz.safetensors") else { return 0 }
    for info in header.tensors.values {
        let start = header.dataStart + info.dataOffsets.lowerBound
        let source = UnsafeRawBufferPointer(rebasing: file[start..<start + info.dataOffsets.count])
        let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: info.count)
        defer { floats.deallocate() }
        SafeTensors.convert(source, from: info.dtype, into: floats)
    }
    return 0
}

@_cdecl("FuzzSafeTensors_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSafeTensors)
}
