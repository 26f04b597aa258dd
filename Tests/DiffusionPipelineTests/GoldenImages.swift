import DiffusionCore
import DiffusionFormats
import Foundation

/// The golden images of Tests/Goldens/pipeline (held to `GoldenImageBar`).
enum GoldenImages {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let pipeline = root.appendingPathComponent("Tests/Goldens/pipeline")

    static func png(_ path: String) throws -> RGBImage {
        try PNG.decode(Data(contentsOf: pipeline.appendingPathComponent(path)))
    }
}
