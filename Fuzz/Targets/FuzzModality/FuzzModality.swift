// The `modality` grammar: any string parses into ControlNets or throws GenerationError, for
// both families and the default presets, never traps.
import FuzzDriver
@testable import DiffusionService
import DiffusionPipeline

func fuzzModality(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    for family in ModelFamily.allCases {
        _ = try? ControlNetModality.parse(text, family: family, presets: .defaults)
    }
    return 0
}

@_cdecl("FuzzModality_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzModality)
}
