// PyTorch checkpoints (`torch.save`'s zip and legacy forms): the safe unpickler either refuses the
// bytes or gives tensors whose every element lies inside the file (AddressSanitizer checks the
// reads, strided views included).
import FuzzDriver
import DiffusionFormats
import Foundation

/// The reader maps a file, so each input is written to one file of this process first: in
/// /dev/shm when there is one (memory; about 9,500 inputs a second against 125 through /tmp's disk).
private let path: URL = {
    let shm = URL(fileURLWithPath: "/dev/shm", isDirectory: true)
    let folder = FileManager.default.fileExists(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
    return folder.appendingPathComponent("FuzzPickle-\(getpid()).pt")
}()

func fuzzPickle(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count))
    guard (try? bytes.write(to: path)) != nil, let checkpoint = try? TorchCheckpoint(contentsOf: path) else { return 0 }
    for name in checkpoint.names {
        guard let entry = checkpoint.info(name) else { continue }
        let expected = entry.shape.reduce(entry.dtype.size, *)
        let read = (try? checkpoint.withElements(name) { $0.count }) ?? expected
        precondition(read == expected, "\(name): \(read) bytes for shape \(entry.shape)")
    }
    return 0
}

@_cdecl("FuzzPickle_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPickle)
}
