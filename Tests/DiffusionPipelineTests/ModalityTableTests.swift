import DiffusionCore
import DiffusionDetectors
import DiffusionPipeline
import Foundation
import Testing

/// The modality table: which families have each modality, which have a detector, and what
/// asking for the others says (Docs/SPEC.md §2).
@Suite struct ModalityTableTests {
    let models = URL(fileURLWithPath: "/models")

    @Test func cannyIsOpenCVsDefaultThresholds() throws {
        let detector = try #require(try Modality.canny.detector(modelsDirectory: models))
        let canny = try #require(detector as? CannyDetector)
        #expect(canny.modality == "canny")
        #expect(canny.lowThreshold == 100 && canny.highThreshold == 200)
    }

    @Test func illusionHasNoDetector() throws {
        #expect(try Modality.illusion.detector(modelsDirectory: models) == nil)
    }

    @Test(arguments: [(Modality.pose, "body_pose_model.pth"), (.scribble, "ControlNetHED.pth"),
                       (.depth, "dpt_hybrid-midas-501f0c75.pt"), (.lines, "mlsd_large_512_fp32.pth"), (.normalMap, "scannet.pt"),
                       (.lineart, "sk_model.pth"), (.seg, "upernet_global_small.pth")])
    func neuralDetectorsNameTheirMissingFile(_ modality: Modality, file: String) {
        let expected = DetectionError.missingWeights(modality: modality.rawValue, file: file)
        #expect(modality.detectorWeightsFile == file)
        #expect(throws: expected) { try modality.checkDetector(modelsDirectory: models) }
        #expect(throws: expected) { try modality.detector(modelsDirectory: models) }
        #expect(expected.description.contains("detectors/\(modality.rawValue)/\(file)"))
    }

    /// The API's lists (the request schema's description of `modality`).
    @Test func familiesListTheAPIsModalities() {
        #expect(Set(ModelFamily.sd15.modalities)
            == ["canny", "pose", "depth", "lines", "seg", "scribble", "lineart", "normal-map", "illusion"])
        #expect(Set(ModelFamily.sdxl.modalities) == ["canny", "pose", "depth", "seg", "illusion", "scribble"])
        #expect(Modality(rawValue: "normal-map") == .normalMap && Modality(rawValue: "normal_map") == nil)
    }

    /// Depth and lines need their published files under detectors/<modality>/; a missing one is
    /// named in the error, and the file is only checked for, not read, until the first detection.
    @Test(arguments: [(Modality.depth, "dpt_hybrid-midas-501f0c75.pt"), (.lines, "mlsd_large_512_fp32.pth"), (.normalMap, "scannet.pt"),
                      (.seg, "upernet_global_small.pth")])
    func neuralDetectorsNeedTheirPublishedFile(_ modality: Modality, _ file: String) throws {
        let error = #expect(throws: DetectionError.self) { try modality.detector(modelsDirectory: models) }
        #expect(error == .missingWeights(modality: modality.rawValue, file: file))
        #expect(String(describing: error!).contains("detectors/\(modality.rawValue)/\(file)"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("modality-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = modality.weightsDirectory(modelsDirectory: folder)
        try FileManager.default.createDirectory(at: weights, withIntermediateDirectories: true)
        try Data().write(to: weights.appendingPathComponent(file))
        #expect(try modality.detector(modelsDirectory: folder)?.modality == modality.rawValue)
        try FileManager.default.removeItem(at: weights.appendingPathComponent(file))
        let converted = (file as NSString).deletingPathExtension + ".safetensors"
        try Data().write(to: weights.appendingPathComponent(converted))
        #expect(try modality.detector(modelsDirectory: folder)?.modality == modality.rawValue)
    }

    @Test func neuralWeightsLiveUnderDetectors() {
        #expect(Modality.depth.weightsDirectory(modelsDirectory: models).path == "/models/detectors/depth")
    }
}
