import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `disableModalityDetection: false` with seg, end to end: on SD1.5 and on the tiny SDXL pipeline
/// (PresetDetectionTests has the presets that hold it, city and interior).
/// Each generation with detection is compared with the typed pipeline given each ControlNet its
/// detector's map of the control image: the same images, so every ControlNet saw its own
/// detector's map.
@Suite struct SegDetectionTests {
    static let root = GenerationBehaviourTests.root
    static let goldens = root.appendingPathComponent("Tests/Goldens/detectors")

    /// The models of DepthLinesDetectionTests (tiny SD1.5, its ControlNets, the depth, lines and
    /// pose detectors) plus a seg ControlNet (the tiny canny one's files: the tiny ControlNets
    /// share one architecture) and the seg goldens' network under the published file name.
    static func models() throws -> TemporaryFolder {
        let folder = try DepthLinesDetectionTests.models(detectors: true)
        let manager = FileManager.default
        try manager.createSymbolicLink(at: folder.url.appendingPathComponent("controlnets/sd-1_5/seg"),
                                       withDestinationURL: root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        try installSeg(in: folder.url)
        return folder
    }

    static func installSeg(in models: URL) throws {
        let seg = models.appendingPathComponent("detectors/seg")
        try FileManager.default.createDirectory(at: seg, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: goldens.appendingPathComponent("seg_tiny.pth"),
                                        to: seg.appendingPathComponent(UniformerDetector.weightsFile))
    }

    /// seg alone: its detector feeds its ControlNet, and the detected images differ from those
    /// of the undetected control image.
    @Test func sd15DetectionFeedsItsMap() throws {
        let models = try Self.models()
        try withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            let request = try DetectionCase.request("sd15_canny_pndm", ["modality": "seg"])
            let (detected, given, maps) = try DetectionCase.detectedAndGiven(service, request)
            #expect(detected.count == 1)
            #expect(detected == given)
            #expect(detected != (try service.generate(request).images))
            #expect(Set(maps.keys) == ["seg"])
        }
    }

    /// seg on the tiny SDXL pipeline of the pipeline goldens (its depth ControlNet doubling as
    /// the seg one).
    @Test func sdxlSegDetectionFeedsItsMap() throws {
        let folder = try TemporaryFolder()
        let manager = FileManager.default
        let sdxl = Self.root.appendingPathComponent("Tests/Goldens/pipeline/models")
        for (path, target) in [("tiny-sdxl", "tiny-sdxl"), ("ip-adapters", "ip-adapters"), ("controlnets/sd-xl/seg", "controlnets/sd-xl/depth")] {
            let url = folder.url.appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createSymbolicLink(at: url, withDestinationURL: sdxl.appendingPathComponent(target))
        }
        try Self.installSeg(in: folder.url)
        let service = GenerationService(models: folder.url, assets: folder.url.appendingPathComponent("assets"))
        let request = try DetectionCase.request("sdxl_landscape_plus_dpm_single", ["modality": "seg"])
        let (detected, given, _) = try DetectionCase.detectedAndGiven(service, request)
        #expect(detected.count == 1)
        #expect(detected == given)
        #expect(detected != (try service.generate(request).images))
    }

    /// Without the file, seg and the presets holding it answer 400 naming it.
    @Test(arguments: ["seg", "city", "interior"])
    func missingWeightsAnswer400NamingTheFile(_ modality: String) throws {
        let models = try DepthLinesDetectionTests.models(detectors: true)
        try FileManager.default.createSymbolicLink(
            at: models.url.appendingPathComponent("controlnets/sd-1_5/seg"),
            withDestinationURL: Self.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny"))
        try withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            let failure = #expect(throws: GenerationError.self) {
                try service.generate(try DetectionCase.request("sd15_canny_pndm", ["modality": modality, "disableModalityDetection": false]))
            }
            #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
            #expect(failure?.message.contains("detectors/seg/upernet_global_small.pth") == true, "\(failure?.message ?? "no error")")
        }
    }
}
