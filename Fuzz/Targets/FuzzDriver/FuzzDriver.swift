// SwiftPM links an executable's `main` to `<Module>_main` (so that tests can link it), which a
// harness built with -parse-as-library does not define; each harness defines it as a call to
// `runFuzzer`, which hands over to libFuzzer's driver.

/// libFuzzer's driver: parses its command line, then calls `test` on every input.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The whole program of a harness: libFuzzer's command line (`-runs=`, `-max_total_time=`,
/// corpus folders) run against `test`, which must return 0.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}
