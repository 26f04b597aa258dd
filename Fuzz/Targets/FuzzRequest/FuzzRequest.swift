// Request bodies: any bytes decode into a GenerationRequest or throw GenerationError, never trap.
import FuzzDriver
@testable import DiffusionService
import DiffusionPipeline
import Foundation

func fuzzRequest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = try? GenerationRequest(json: data)
    return 0
}

@_cdecl("FuzzRequest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRequest)
}
