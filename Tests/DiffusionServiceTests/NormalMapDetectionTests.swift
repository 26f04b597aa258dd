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
    @Test func detectionFeedsTheNormalMap() async throws {
        let (detected, given, plain) = try await Self.onOwnThread {
            let models = try Self.models()
            return try withExtendedLifetime(models) {
                let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
                let cases = DepthLinesDetectionTests()
                let detector = try #require(try Modality.normalMap.detector(modelsDirectory: models.url))
                let map = try detector.detect(try cases.controlImage())
                return (try service.generate(try cases.request(["modality": "normal-map", "disableModalityDetection": false])).images,
                        try service.generate(try cases.request(["modality": "normal-map", "controlImage": try cases.pngURL(map)])).images,
                        try service.generate(try cases.request(["modality": "normal-map"])).images)
            }
        }
        #expect(detected == given)
        #expect(detected != plain)
    }

    /// Runs `body` on a thread of its own: its ~14 s of synchronous detection (the full-size
    /// network at 512x512, twice) and generation would otherwise hold one of the two
    /// cooperative threads that the concurrently running async server tests need.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Without the weights file, detection answers 400 naming it.
    @Test func missingWeightsAnswer400NamingTheFile() throws {
        let models = try DepthLinesDetectionTests.models(detectors: false)
        try FileManager.default.createSymbolicLink(at: models.url.appendingPathComponent("controlnets/sd-1_5/normal-map"),
                                                   withDestinationURL: DepthLinesDetectionTests.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            let failure = error { try service.generate(try DepthLinesDetectionTests().request(["modality": "normal-map", "disableModalityDetection": false])) }
            #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
            #expect(failure?.message.contains("detectors/normal-map/scannet.pt") == true, "\(failure?.message ?? "no error")")
        }
    }
}
