import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionService
import Foundation
import Testing

/// `disableModalityDetection: false` with the neural detectors, end to end through the
/// service: a models directory with the tiny random detector weights of
/// Tests/Goldens/detectors (pose, and scribble fed to the tiny pose ControlNet's weights), and
/// one without them, which answers 400 naming the file to install.
@Suite struct NeuralDetectionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Tests/Fixtures/Weights/ linked into a temporary folder, plus a scribble ControlNet (the pose one's
    /// files) and, when `detectors`, the tiny detector weights under their published names.
    static func models(detectors: Bool) throws -> URL {
        let fm = FileManager.default
        let models = fm.temporaryDirectory.appendingPathComponent("neural-detection-\(UUID().uuidString)")
        let weights = root.appendingPathComponent("Tests/Fixtures/Weights")
        try fm.createDirectory(at: models.appendingPathComponent("controlnets/sd-1_5"), withIntermediateDirectories: true)
        for entry in try fm.contentsOfDirectory(atPath: weights.path) where entry != "controlnets" {
            try fm.createSymbolicLink(at: models.appendingPathComponent(entry), withDestinationURL: weights.appendingPathComponent(entry))
        }
        let controlNets = weights.appendingPathComponent("controlnets/sd-1_5")
        for name in try fm.contentsOfDirectory(atPath: controlNets.path) {
            try fm.createSymbolicLink(at: models.appendingPathComponent("controlnets/sd-1_5/\(name)"),
                                      withDestinationURL: controlNets.appendingPathComponent(name))
        }
        try fm.createSymbolicLink(at: models.appendingPathComponent("controlnets/sd-1_5/scribble"),
                                  withDestinationURL: controlNets.appendingPathComponent("pose"))
        if detectors {
            let fixtures = root.appendingPathComponent("Tests/Goldens/detectors")
            for (modality, fixture, published) in [("pose", "pose_tiny.pth", "body_pose_model.pth"), ("scribble", "hed_tiny.pth", "ControlNetHED.pth")] {
                let folder = models.appendingPathComponent("detectors/\(modality)")
                try fm.createDirectory(at: folder, withIntermediateDirectories: true)
                try fm.copyItem(at: fixtures.appendingPathComponent(fixture), to: folder.appendingPathComponent(published))
            }
        }
        return models
    }

    /// The canny example request with `modality` and `extra` merged in.
    func request(_ modality: String, _ extra: [String: Any] = [:]) throws -> GenerationRequest {
        let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
        var body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        body["modality"] = modality
        body["numSamples"] = 1
        body["numInferenceSteps"] = 2
        body.merge(extra) { $1 }
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    /// The ControlNet sees the detector's map of the control image resized to the output size:
    /// the same images as sending that map with detection off.
    @Test(arguments: ["pose", "scribble"])
    func detectionFeedsTheDetectorsMap(modality: String) throws {
        let models = try Self.models(detectors: true)
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("neural-assets-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: models)
            try? FileManager.default.removeItem(at: assets)
        }
        let service = GenerationService(models: models, assets: assets)
        let body = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root
            .appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json"))) as! [String: Any]
        let control = try DataURL.decodeImage(body["controlImage"] as! String).resized(width: 64, height: 64, filter: .lanczos)
        let folder = models.appendingPathComponent("detectors/\(modality)")
        let detector: Detector = modality == "pose"
            ? try OpenposeDetector(weightsDirectory: folder) : try HEDDetector(weightsDirectory: folder)
        let mapURL = "data:image/png;base64," + (try PNG.encode(try detector.detect(control))).base64EncodedString()
        let detected = try service.generate(try request(modality, ["disableModalityDetection": false]))
        let given = try service.generate(try request(modality, ["controlImage": mapURL]))
        let plain = try service.generate(try request(modality))
        #expect(detected.images == given.images)
        #expect(detected.images != plain.images)
    }

    @Test(arguments: [("pose", "body_pose_model.pth"), ("scribble", "ControlNetHED.pth")])
    func missingWeightsAre400NamingTheFile(modality: String, file: String) throws {
        let models = try Self.models(detectors: false)
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("neural-assets-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: models)
            try? FileManager.default.removeItem(at: assets)
        }
        let service = GenerationService(models: models, assets: assets)
        let error = #expect(throws: GenerationError.self) {
            try service.generate(try request(modality, ["disableModalityDetection": false]))
        }
        #expect(error?.status == 400)
        #expect(error?.message.contains("detectors/\(modality)/\(file)") == true)
    }
}
