import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// The golden images of Tests/Goldens/pipeline and the end-to-end bar they are held to.
enum GoldenImages {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let pipeline = root.appendingPathComponent("Tests/Goldens/pipeline")

    static func png(_ path: String) throws -> RGBImage {
        try PNG.decode(Data(contentsOf: pipeline.appendingPathComponent(path)))
    }

    /// Docs/SPEC.md's bar, as EndToEndTests holds the service to it: within 6 levels at any pixel and
    /// 0.5 on average. Both sides run float32 with identical weights; what differs is summation
    /// order, amplified by the steps.
    static func expectClose(_ image: RGBImage, _ expected: RGBImage, _ label: String) {
        #expect(image.width == expected.width && image.height == expected.height, "\(label): size")
        let differences = zip(image.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }
        let worst = differences.max() ?? 0
        let mean = Double(differences.reduce(0, +)) / Double(max(1, differences.count))
        #expect(worst <= 6, "\(label): worst difference \(worst)")
        #expect(mean <= 0.5, "\(label): mean difference \(mean)")
    }
}
