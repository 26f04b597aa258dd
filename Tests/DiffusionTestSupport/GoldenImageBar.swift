import DiffusionCore
import Testing

/// The bar of Docs/SPEC.md §3 for whole generations: within 6 levels at any pixel and 0.5 on
/// average. The models are float32 on both sides with identical weights; what differs is
/// summation order, amplified by the steps.
public enum GoldenImageBar {
    public static func expectClose(_ image: RGBImage, _ expected: RGBImage, _ label: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(image.width == expected.width && image.height == expected.height, "\(label): size", sourceLocation: sourceLocation)
        let differences = zip(image.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }
        let worst = differences.max() ?? 0
        let mean = Double(differences.reduce(0, +)) / Double(max(1, differences.count))
        #expect(worst <= 6, "\(label): worst difference \(worst)", sourceLocation: sourceLocation)
        #expect(mean <= 0.5, "\(label): mean difference \(mean)", sourceLocation: sourceLocation)
    }
}
