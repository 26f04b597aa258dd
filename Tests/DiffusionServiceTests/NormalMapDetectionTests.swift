import DiffusionCore
import DiffusionDetectors
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `disableModalityDetection: false` with `modality: normal-map` end to end, on the tiny SD1.5
/// model (the tiny canny ControlNet doubling as the normal-map one: the tiny ControlNets share one
/// architecture) and the full-size NormalBae of the detector goldens (random weights, published
/// layout) as `detectors/normal-map/scannet.pt`.
@Suite(.serialized) struct NormalMapDetectionTests {
    static func models() throws -> TemporaryFolder {
        let folder = try DepthLinesDetectionTests.models(detectors: false)
        let manager = FileManager.default
        try manager.createSymbolicLink(at: folder.url.appendingPathComponent("controlnets/sd-1_5/normal-map"),
                                       withDestinationURL: DepthLinesDetectionTests.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        let detectors = folder.url.appendingPathComponent("detectors/normal-map")
        try manager.createDirectory(at: detectors, withIntermediateDirectories: true)
        try manager.copyItem(at: DepthLinesDetectionTests.goldens.appendingPathComponent("normal_scannet.pt"),
                             to: detectors.appendingPathComponent(NormalBaeDetector.weightsFile))
        return folder
    }

    /// With detection on, the ControlNet sees NormalBae's map of the control image: the same
    /// images as sending that map with detection off, and not the control image's.
    @Test func detectionFeedsTheNormalMap() throws {
        let models = try Self.models()
        try withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            let cases = DepthLinesDetectionTests()
            let detector = try #require(try Modality.normalMap.detector(modelsDirectory: models.url))
            let map = try detector.detect(try cases.controlImage())
            let detected = try service.generate(try cases.request(["modality": "normal-map", "disableModalityDetection": false]))
            let given = try service.generate(try cases.request(["modality": "normal-map", "controlImage": try cases.pngURL(map)]))
            let plain = try service.generate(try cases.request(["modality": "normal-map"]))
            #expect(detected.images == given.images)
            #expect(detected.images != plain.images)
        }
    }

    /// Without the weights file, detection answers 400 naming it.
    @Test func missingWeightsAnswer400NamingTheFile() throws {
        let models = try DepthLinesDetectionTests.models(detectors: false)
        try FileManager.default.createSymbolicLink(at: models.url.appendingPathComponent("controlnets/sd-1_5/normal-map"),
                                                   withDestinationURL: DepthLinesDetectionTests.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        try withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            let failure = error { try service.generate(try DepthLinesDetectionTests().request(["modality": "normal-map", "disableModalityDetection": false])) }
            #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
            #expect(failure?.message.contains("detectors/normal-map/scannet.pt") == true, "\(failure?.message ?? "no error")")
        }
    }
}
