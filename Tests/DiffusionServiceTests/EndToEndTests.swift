import DiffusionCore
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import DiffusionTestSupport
import Testing

/// Whole generations through the public library API, against diffusers' ControlNet pipelines
/// with IP-Adapters (Tests/Goldens/pipeline/generate.py): 12 requests over both families, one to
/// three ControlNets, base and Plus adapters, one to three reference images, 12 schedulers.
@Suite(.serialized) struct EndToEndTests {
    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let models: String
        let samples: Int
        var testDescription: String { name }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let cases = root.appendingPathComponent("Tests/Goldens/pipeline/cases")
    static let manifest: [Case] = try! JSONDecoder().decode(
        [Case].self, from: Data(contentsOf: cases.appendingPathComponent("manifest.json")))

    /// Docs/SPEC.md's bar: within 6 levels at any pixel and 0.5 on average. The models are float32 on
    /// both sides with identical weights; what differs is summation order, amplified by the steps.
    @Test(arguments: manifest) func imagesMatchDiffusers(_ c: Case) throws {
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: assets) }
        let pipeline = GenerationService(models: Self.root.appendingPathComponent(c.models), assets: assets)
        let body = try Data(contentsOf: Self.cases.appendingPathComponent("\(c.name)/request.json"))
        let result = try pipeline.generate(try GenerationRequest(json: body))
        #expect(result.images.count == c.samples)
        #expect(result.response.job.metadata.assetIds == result.assets.map(\.id))
        for (i, image) in result.images.enumerated() {
            let expected = try PNG.decode(Data(contentsOf: Self.cases.appendingPathComponent("\(c.name)/expected_\(i).png")))
            GoldenImageBar.expectClose(image, expected, "\(c.name) sample \(i)")
            // The stored asset is the same image.
            #expect(try PNG.decode(Data(contentsOf: pipeline.assets.imageURL(result.assets[i].id))) == image)
        }
    }
}
