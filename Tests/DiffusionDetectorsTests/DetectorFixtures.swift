import DiffusionCore
import DiffusionFormats
import Foundation

/// Reads the fixtures of Tests/Goldens/detectors: HWC arrays stored in safetensors files,
/// uint8 (U8), int32 (I32) or float32 (F32).
struct DetectorFixtures {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/detectors")

    struct FixtureError: Error, CustomStringConvertible { let description: String }

    let file: SafeTensorsFile

    init(_ name: String) throws {
        file = try SafeTensorsFile(contentsOf: Self.folder.appendingPathComponent(name))
    }

    func shape(_ name: String) throws -> [Int] {
        guard let info = file.info(name) else { throw FixtureError(description: "no '\(name)' in \(file.url.path)") }
        return info.shape
    }

    func bytes(_ name: String) throws -> [UInt8] { try file.withElements(name) { Array($0) } }

    func integers(_ name: String) throws -> [Int] {
        try file.withElements(name) { raw in raw.bindMemory(to: Int32.self).map(Int.init) }
    }

    /// An HWC uint8 array with three channels as an image.
    func image(_ name: String) throws -> RGBImage {
        let shape = try shape(name)
        guard shape.count == 3, shape[2] == 3 else { throw FixtureError(description: "'\(name)' is \(shape), not HxWx3") }
        return RGBImage(width: shape[1], height: shape[0], pixels: try bytes(name))
    }

    /// An HWC float32 array as an NHWC tensor of batch 1 (a 2-D array gets one channel).
    func tensor(_ name: String) throws -> Tensor {
        let shape = try shape(name)
        let values = try file.withElements(name) { raw in Array(raw.bindMemory(to: Float.self)) }
        return Tensor(shape: [1, shape[0], shape[1], shape.count > 2 ? shape[2] : 1], values: values)
    }
}

/// The largest difference between two byte arrays of the same length, and how many differ.
func byteDifference(_ a: [UInt8], _ b: [UInt8]) -> (largest: Int, count: Int) {
    precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
    var largest = 0, count = 0
    for (x, y) in zip(a, b) where x != y {
        largest = max(largest, abs(Int(x) - Int(y)))
        count += 1
    }
    return (largest, count)
}
