import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `disableModalityDetection: false` with the neural detectors, end to end: a models directory
/// holding the tiny SD1.5 model, its ControlNets and the depth and lines detectors' weight files.
@Suite struct DepthLinesDetectionTests {
    static let root = GenerationBehaviourTests.root
    static let goldens = root.appendingPathComponent("Tests/Goldens/detectors")

    /// Tests/Fixtures/Weights/ linked into a fresh folder (the tiny canny ControlNet doubling as the lines one:
    /// the tiny ControlNets share one architecture), with, when `detectors`, the shrunk
    /// DPT-Hybrid of the depth goldens under its published name, and M-LSD at its real size
    /// with arbitrary weights as the converted (safetensors) form of its published file, and the
    /// tiny OpenPose of the pose goldens for the character preset.
    static func models(detectors: Bool) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        let manager = FileManager.default
        func link(_ path: String, to target: String) throws {
            let url = folder.url.appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createSymbolicLink(at: url, withDestinationURL: root.appendingPathComponent("Tests/Fixtures/Weights/\(target)"))
        }
        try link("tiny-sd15", to: "tiny-sd15")
        try link("ip-adapters", to: "ip-adapters")
        for modality in ["canny", "depth", "pose"] { try link("controlnets/sd-1_5/\(modality)", to: "controlnets/sd-1_5/\(modality)") }
        try link("controlnets/sd-1_5/lines", to: "controlnets/sd-1_5/canny")
        guard detectors else { return folder }
        let depth = folder.url.appendingPathComponent("detectors/depth")
        try manager.createDirectory(at: depth, withIntermediateDirectories: true)
        try manager.copyItem(at: goldens.appendingPathComponent("depth_tiny.pt"), to: depth.appendingPathComponent(MidasDetector.weightsFile))
        let lines = folder.url.appendingPathComponent("detectors/lines")
        try manager.createDirectory(at: lines, withIntermediateDirectories: true)
        try writeMLSD(to: lines.appendingPathComponent("mlsd_large_512_fp32.safetensors"))
        let pose = folder.url.appendingPathComponent("detectors/pose")
        try manager.createDirectory(at: pose, withIntermediateDirectories: true)
        try manager.copyItem(at: goldens.appendingPathComponent("pose_tiny.pth"), to: pose.appendingPathComponent(OpenposeDetector.weightsFile))
        return folder
    }

    /// Every tensor of M-LSD (names and shapes from the lines goldens' manifest) filled with a
    /// smooth pattern around its kind's usual value; running variances stay positive.
    static func writeMLSD(to url: URL) throws {
        struct Entry: Decodable { let shape: [Int]; let offset: Float; let scale: Float }
        let entries = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: goldens.appendingPathComponent("lines_weights.json")))
        try SafeTensors.write(entries.map { name, entry in
            let count = entry.shape.reduce(1, *)
            return (name: name, tensor: Tensor(shape: entry.shape, values: (0..<count).map { entry.offset + entry.scale * sin(Float($0) * 0.7) }))
        }, to: url)
    }

    func request(_ extra: [String: Any]) throws -> GenerationRequest {
        try DetectionCase.request("sd15_canny_pndm", extra)
    }

    func withService<T>(detectors: Bool, _ body: (GenerationService, URL) throws -> T) throws -> T {
        let models = try Self.models(detectors: detectors)
        return try withExtendedLifetime(models) {
            try body(GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets")), models.url)
        }
    }

    /// The request's control image at the output size, as the pipeline resizes it before detection.
    func controlImage() throws -> RGBImage {
        try DataURL.decodeImage(try request([:]).controlImage ?? "").resized(width: 64, height: 64, filter: .lanczos)
    }

    func pngURL(_ image: RGBImage) throws -> String {
        "data:image/png;base64," + (try PNG.encode(image)).base64EncodedString()
    }

    /// With detection on, the depth and lines ControlNets see their detector's map of the control
    /// image: the same images as sending that map with detection off, and not the control image's.
    @Test(arguments: ["depth", "lines"])
    func detectionFeedsTheDetectorsMap(_ modality: String) throws {
        try withService(detectors: true) { service, models in
            let detector = try #require(try Modality(rawValue: modality)?.detector(modelsDirectory: models))
            let map = try detector.detect(try controlImage())
            let detected = try service.generate(try request(["modality": modality, "disableModalityDetection": false]))
            let given = try service.generate(try request(["modality": modality, "controlImage": try pngURL(map)]))
            let plain = try service.generate(try request(["modality": modality]))
            #expect(detected.images == given.images)
            #expect(detected.images != plain.images)
        }
    }

    /// Without the weight files, detection answers 400 naming the file to install.
    @Test(arguments: [("depth", "detectors/depth/dpt_hybrid-midas-501f0c75.pt"),
                      ("landscape", "detectors/depth/dpt_hybrid-midas-501f0c75.pt"),
                      ("lines", "detectors/lines/mlsd_large_512_fp32.pth")])
    func missingWeightsAnswer400NamingTheFile(_ modality: String, _ file: String) throws {
        try withService(detectors: false) { service, _ in
            let failure = error { try service.generate(try request(["modality": modality, "disableModalityDetection": false])) }
            #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
            #expect(failure?.message.contains(file) == true, "\(failure?.message ?? "no error")")
        }
    }

    /// Validation alone (TestEnvironment's SDXL model is files to find, not weights): its
    /// landscape request passes once the detectors' files are installed (they are only read at
    /// the first detection).
    @Test func sdxlLandscapeValidatesWithTheDetectorsInstalled() throws {
        let environment = try TestEnvironment()
        let failure = error { try environment.resolve(adding: #""disableModalityDetection": false, "modality": "landscape""#, model: "sdxl") }
        #expect(failure?.status == 400 && failure?.message.contains(MidasDetector.weightsFile) == true)
        try environment.folder.write("", at: "models/detectors/depth/\(MidasDetector.weightsFile)")
        #expect(error { try environment.resolve(adding: #""disableModalityDetection": false, "modality": "landscape""#, model: "sdxl") } == nil)
    }
}
