import DiffusionCore
import DiffusionFormats
import Foundation

/// Tests/Goldens/detectors, made by its depth.py and lines.py from controlnet_aux 0.0.10.
enum DetectorGoldens {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/detectors")

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    static func file(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: folder.appendingPathComponent(name))
    }

    /// `<key>.input`: the image after controlnet_aux's resize_image, `[h, w, 3]` uint8.
    static func image(_ file: SafeTensorsFile, _ key: String) throws -> RGBImage {
        let tensor = try file.tensor(named: "\(key).input")
        guard tensor.rank == 3, tensor.shape[2] == 3 else { throw FixtureError(description: "\(key).input is \(tensor.shape)") }
        return RGBImage(width: tensor.shape[1], height: tensor.shape[0], pixels: tensor.scalars.map { UInt8($0) })
    }

    /// A one-channel uint8 map `[h, w]`.
    static func map(_ file: SafeTensorsFile, _ name: String) throws -> [UInt8] {
        try file.tensor(named: name).scalars.map { UInt8($0) }
    }

    /// One channel of an RGB map whose channels are equal.
    static func channel(_ image: RGBImage) -> [UInt8] {
        stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
    }

    /// The largest absolute difference over the reference's largest magnitude.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        guard actual.count == expected.count else { return .infinity }
        var worst: Float = 0
        for (a, e) in zip(actual, expected) where !(abs(a - e) <= worst) { worst = abs(a - e) }
        return worst / max(expected.map(abs).max() ?? 1, 1e-30)
    }
}
