import DiffusionCore
import DiffusionDetectors
import Foundation
import Testing

/// Which modalities have a detector, and what asking for the others says (SPEC §2).
@Suite struct DetectorRegistryTests {
    let models = URL(fileURLWithPath: "/models")

    @Test func cannyIsOpenCVsDefaultThresholds() throws {
        let detector = try #require(try DetectorRegistry.makeDetector(modality: "canny", modelsDirectory: models))
        let canny = try #require(detector as? CannyDetector)
        #expect(canny.modality == "canny")
        #expect(canny.lowThreshold == 100 && canny.highThreshold == 200)
    }

    @Test func illusionHasNoDetector() throws {
        #expect(try DetectorRegistry.makeDetector(modality: "illusion", modelsDirectory: models) == nil)
    }

    @Test(arguments: ["pose", "depth", "lines", "lineart", "scribble", "seg", "normal-map"])
    func neuralModalitiesAreUnavailable(_ modality: String) {
        #expect(DetectorRegistry.neuralModalities.contains(modality))
        let error = #expect(throws: DetectionError.self) {
            try DetectorRegistry.makeDetector(modality: modality, modelsDirectory: models)
        }
        #expect(error == .unavailable(modality: modality))
        let message = String(describing: error!)
        #expect(message.contains("'\(modality)'"))
        #expect(message.contains("not available"))
        #expect(message.contains("detectors/\(modality)/"))
    }

    @Test(arguments: ["", "Canny", "edges", "normal_map", "canny "])
    func unknownNamesAreRefusedByName(_ name: String) {
        let error = #expect(throws: DetectionError.self) {
            try DetectorRegistry.makeDetector(modality: name, modelsDirectory: models)
        }
        #expect(error == .unknownModality(name))
        let message = String(describing: error!)
        #expect(message.contains("'\(name)'"))
        #expect(message.contains("canny, pose, depth"))
    }

    @Test func everyModalityIsCannyIllusionOrNeural() {
        #expect(DetectorRegistry.modalities.count == 9)
        let others = Set(DetectorRegistry.modalities).subtracting(DetectorRegistry.neuralModalities)
        #expect(others == ["canny", "illusion"])
    }

    @Test func neuralWeightsLiveUnderDetectors() {
        let folder = DetectorRegistry.weightsDirectory(for: "depth", modelsDirectory: models)
        #expect(folder.path == "/models/detectors/depth")
    }
}
