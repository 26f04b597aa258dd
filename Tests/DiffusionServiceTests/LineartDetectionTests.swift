import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `disableModalityDetection: false` with `modality: lineart`, end to end on the tiny SD1.5 model
/// (its canny ControlNet doubling as the lineart one: the tiny ControlNets share one
/// architecture), with the tiny random Generators of Tests/Goldens/detectors/lineart.py under the
/// published names; and `diffuse detect --modality lineart [--coarse]`.
@Suite(.serialized) struct LineartDetectionTests {
    static let goldens = DepthLinesDetectionTests.goldens

    /// The depth and lines tests' models folder, plus the lineart ControlNet and, when
    /// `detectors`, `detectors/lineart/sk_model.pth` and `sk_model2.pth`.
    static func models(detectors: Bool) throws -> TemporaryFolder {
        let folder = try DepthLinesDetectionTests.models(detectors: false)
        try FileManager.default.createSymbolicLink(
            at: folder.url.appendingPathComponent("controlnets/sd-1_5/lineart"),
            withDestinationURL: DepthLinesDetectionTests.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        guard detectors else { return folder }
        let lineart = folder.url.appendingPathComponent("detectors/lineart")
        try FileManager.default.createDirectory(at: lineart, withIntermediateDirectories: true)
        for (fixture, published) in [("lineart_tiny.pth", LineartDetector.weightsFile), ("lineart2_tiny.pth", LineartDetector.coarseWeightsFile)] {
            try FileManager.default.copyItem(at: goldens.appendingPathComponent(fixture), to: lineart.appendingPathComponent(published))
        }
        return folder
    }

    /// The ControlNet sees the detector's map of the control image (resized to the output size):
    /// the same images as sending that map with detection off, and not the control image's.
    @Test func detectionFeedsTheDetectorsMap() throws {
        let models = try Self.models(detectors: true)
        let requests = DepthLinesDetectionTests()
        let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
        let detector = try #require(try Modality.lineart.detector(modelsDirectory: models.url))
        let map = try detector.detect(try requests.controlImage())
        let detected = try service.generate(try requests.request(["modality": "lineart", "disableModalityDetection": false]))
        let given = try service.generate(try requests.request(["modality": "lineart", "controlImage": try requests.pngURL(map)]))
        let plain = try service.generate(try requests.request(["modality": "lineart"]))
        #expect(detected.images == given.images)
        #expect(detected.images != plain.images)
    }

    /// Without sk_model.pth, detection answers 400 naming it.
    @Test func missingWeightsAnswer400NamingTheFile() throws {
        let models = try Self.models(detectors: false)
        let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
        let failure = error { try service.generate(try DepthLinesDetectionTests().request(["modality": "lineart", "disableModalityDetection": false])) }
        #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
        #expect(failure?.message.contains("detectors/lineart/sk_model.pth") == true, "\(failure?.message ?? "no error")")
    }

    /// `diffuse detect --modality lineart` writes the default model's map, `--coarse` the coarse
    /// model's; `--coarse` with another modality is a usage error (status 64).
    @Test func detectCommandRunsEitherModel() throws {
        let models = try Self.models(detectors: true)
        let input = Self.goldens.appendingPathComponent("astronaut.png")
        let image = try ImageDecoder.decode(Data(contentsOf: input))
        let folder = models.url.appendingPathComponent("detectors/lineart")
        for coarse in [false, true] {
            let output = models.url.appendingPathComponent("map-\(coarse).png")
            let run = try CommandLineTests.run(["detect", "--modality", "lineart", "--image", input.path, "--output", output.path,
                                                "--models", models.url.path] + (coarse ? ["--coarse"] : []), in: models.url)
            #expect(run.status == 0)
            let expected = try LineartDetector(weightsDirectory: folder, coarse: coarse).detect(image)
            #expect(try PNG.decode(Data(contentsOf: output)) == expected)
        }
        let refused = try CommandLineTests.run(["detect", "--modality", "canny", "--coarse", "--image", input.path,
                                                "--output", models.url.appendingPathComponent("edges.png").path], in: models.url)
        #expect(refused.status == 64)
    }
}
