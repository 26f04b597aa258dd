import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// The detectors read their weights in every wrapping the published files may have
/// (Docs/DETECTORS.md, "Real weight files"): the tiny fixtures of Tests/Goldens/detectors saved
/// again by wrappings.py read exactly as the plain files do.
@Suite struct DetectorWeightsWrappingTests {
    static func fixture(_ name: String) -> URL { DetectorFixtures.folder.appendingPathComponent(name) }

    /// HEDDetector reading `fixture` as its ControlNetHED.pth, and the folder to remove.
    static func hed(_ fixture: String) throws -> (HEDDetector, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixture(fixture), to: folder.appendingPathComponent("ControlNetHED.pth"))
        return (try HEDDetector(weightsDirectory: folder), folder)
    }

    /// The legacy serialization (torch < 1.6), a DataParallel training checkpoint in float64
    /// beside an optimizer's state, and mmcv's checkpoint with `module.` keys give the plain
    /// file's projections and scribble map. The float32 values are the same in every form, so
    /// the outputs are equal, not merely close.
    @Test(arguments: ["hed_legacy.pth", "hed_training.pth", "hed_mmcv.pth"])
    func wrappedNetworkGivesThePlainOutputs(fixture: String) throws {
        let (plain, plainFolder) = try Self.hed("hed_tiny.pth")
        let (wrapped, folder) = try Self.hed(fixture)
        defer {
            try? FileManager.default.removeItem(at: plainFolder)
            try? FileManager.default.removeItem(at: folder)
        }
        let image = try HEDDetectorTests.image("astronaut")
        let input = ControlNetAuxImage.resizeImage(image, resolution: 512)
        #expect(wrapped.projections(input).map(\.scalars) == plain.projections(input).map(\.scalars))
        let map = wrapped.detect(image)
        #expect(map.pixels == plain.detect(image).pixels)
        #expect(map.pixels.contains(255))
    }

    /// Each detector's file in its likeliest published form (8 of its tensors): the keys and
    /// values of the plain fixture, bit for bit.
    @Test(arguments: [
        ("pose_legacy.pth", "pose_tiny.pth", "pose"), ("depth_training.pth", "depth_tiny.pt", "depth"),
        ("seg_mmcv.pth", "seg_tiny.pth", "seg"),
    ])
    func publishedLayoutsGiveThePlainTensors(fixture: String, plainFixture: String, modality: String) throws {
        let wrapped = try DetectorWeightsFile.tensors(at: Self.fixture(fixture), modality: modality)
        let plain = Dictionary(uniqueKeysWithValues: try DetectorWeightsFile.tensors(at: Self.fixture(plainFixture), modality: modality))
        #expect(wrapped.count == 8)
        for (name, tensor) in wrapped {
            let expected = try #require(plain[name], "'\(name)' of \(fixture) is not a key of \(plainFixture)")
            #expect(tensor.shape == expected.shape && tensor.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name)")
        }
    }

    /// No detector's own keys start with `model.` or `module.`, so its plain file's keys are
    /// kept as they are (the NormalBae fixture has the published wrapping, tested above and in
    /// NormalBaeDetectorTests).
    @Test(arguments: ["pose_tiny.pth", "hed_tiny.pth", "depth_tiny.pt", "lineart_tiny.pth", "lineart2_tiny.pth", "seg_tiny.pth"])
    func plainKeysAreKept(fixture: String) throws {
        let names = try TorchCheckpoint(contentsOf: Self.fixture(fixture)).names
        #expect(try DetectorWeightsFile.tensors(at: Self.fixture(fixture), modality: "test").map(\.name) == names)
    }

    @Test func linesKeysAreKept() throws {
        let url = try SeededWeights.write(manifest: "lines_weights.json", as: "mlsd.safetensors")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let names = try SafeTensorsFile(contentsOf: url).names
        #expect(try DetectorWeightsFile.tensors(at: url, modality: "lines").map(\.name) == names)
    }

    /// A training checkpoint's tensors outside `model` (an optimizer's moments) are not weights;
    /// `module.` is dropped inside it too.
    @Test func onlyTheModelEntryOfATrainingCheckpointIsRead() throws {
        let url = try write([
            "model.module.conv.weight": Tensor(shape: [2], values: [1, 2]), "model.norm": Tensor(shape: [1], values: [3]),
            "optimizer.state.0.exp_avg": Tensor(shape: [2], values: [4, 5]),
        ])
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let tensors = try DetectorWeightsFile.tensors(at: url, modality: "depth")
        #expect(tensors.map(\.name) == ["conv.weight", "norm"])
        #expect(tensors.map(\.tensor.scalars) == [[1, 2], [3]])
    }

    /// Two stored tensors that are the same weight once `module.` is dropped are refused, naming both.
    @Test func keysEqualWithoutModuleAreRefused() throws {
        let url = try write(["module.norm": Tensor(shape: [1], values: [1]), "norm": Tensor(shape: [1], values: [2])])
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect {
            _ = try DetectorWeightsFile.tensors(at: url, modality: "depth")
        } throws: { error in
            guard case .invalidWeights("depth", "weights.safetensors", let reason) = error as? DetectionError else { return false }
            return reason == "'module.norm' and 'norm' are both the weight 'norm'" || reason == "'norm' and 'module.norm' are both the weight 'norm'"
        }
    }

    private func write(_ tensors: [String: Tensor]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wrapping-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("weights.safetensors")
        try SafeTensors.write(tensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }, to: url)
        return url
    }
}
