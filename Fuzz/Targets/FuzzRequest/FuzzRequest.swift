// Request bodies: any bytes decode into a GenerationRequest or throw GenerationError, never
// trap; the duplicate-key scanner runs on every input, JSON or not.
import DiffusionFormats
import FuzzDriver
@testable import DiffusionService
import DiffusionPipeline
import Foundation

func fuzzRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = JSONDuplicateKeys.first(in: data)
    if let request = try? GenerationRequest(json: data) {
        precondition(request.unknownFieldWarnings.count <= GenerationRequest.maximumUnknownFieldWarnings + 1)
    }
    return 0
}

@_cdecl("FuzzRequest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRequest)
}
