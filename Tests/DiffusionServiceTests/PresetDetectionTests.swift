import DiffusionCore
import DiffusionDetectors
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// Every preset with `disableModalityDetection: false` (Docs/SPEC.md §2: character = depth +
/// pose, landscape = depth + canny, city = canny + depth + seg, interior = lines + depth + seg):
/// the service's images equal the typed pipeline's given each member's ControlNet its own
/// detector's map of the one control image, and differ from the undetected images.
@Suite struct PresetDetectionTests {
    static let root = GenerationBehaviourTests.root

    static let members: [String: Set<String>] = [
        "character": ["depth", "pose"], "landscape": ["depth", "canny"], "city": ["canny", "depth", "seg"], "interior": ["lines", "depth", "seg"],
    ]

    func check(_ service: GenerationService, _ request: GenerationRequest, preset: String) throws {
        let (detected, given, maps) = try DetectionCase.detectedAndGiven(service, request)
        #expect(detected.count == 1)
        #expect(detected == given)
        #expect(detected != (try service.generate(request).images))
        #expect(Set(maps.keys) == Self.members[preset])
    }

    /// On tiny SD1.5, with every SD1.5 member's ControlNet and detector installed.
    @Test(arguments: ["character", "landscape", "city", "interior"])
    func sd15PresetFeedsEachControlNetItsMap(_ preset: String) throws {
        let models = try SegDetectionTests.models()
        try withExtendedLifetime(models) {
            let service = GenerationService(models: models.url, assets: models.url.appendingPathComponent("assets"))
            try check(service, try DetectionCase.request("sd15_canny_pndm", ["modality": preset]), preset: preset)
        }
    }

    /// On the tiny SDXL pipeline of the pipeline goldens (its depth ControlNet doubling as the
    /// pose one: the tiny ControlNets share one architecture), with the depth and pose detectors.
    @Test(arguments: ["character", "landscape"])
    func sdxlPresetFeedsEachControlNetItsMap(_ preset: String) throws {
        let folder = try TemporaryFolder()
        let manager = FileManager.default
        let sdxl = Self.root.appendingPathComponent("Tests/Goldens/pipeline/models")
        for (path, target) in [("tiny-sdxl", "tiny-sdxl"), ("ip-adapters", "ip-adapters"), ("controlnets/sd-xl/canny", "controlnets/sd-xl/canny"),
                               ("controlnets/sd-xl/depth", "controlnets/sd-xl/depth"), ("controlnets/sd-xl/pose", "controlnets/sd-xl/depth")] {
            let url = folder.url.appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createSymbolicLink(at: url, withDestinationURL: sdxl.appendingPathComponent(target))
        }
        let goldens = Self.root.appendingPathComponent("Tests/Goldens/detectors")
        for (modality, fixture, published) in [("depth", "depth_tiny.pt", MidasDetector.weightsFile), ("pose", "pose_tiny.pth", OpenposeDetector.weightsFile)] {
            let detectors = folder.url.appendingPathComponent("detectors/\(modality)")
            try manager.createDirectory(at: detectors, withIntermediateDirectories: true)
            try manager.copyItem(at: goldens.appendingPathComponent(fixture), to: detectors.appendingPathComponent(published))
        }
        let service = GenerationService(models: folder.url, assets: folder.url.appendingPathComponent("assets"))
        try check(service, try DetectionCase.request("sdxl_landscape_plus_dpm_single", ["modality": preset]), preset: preset)
    }
}
