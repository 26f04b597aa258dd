import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import DiffusionTestSupport
import Testing

/// The depth detector against controlnet_aux's MidasDetector (Tests/Goldens/detectors/depth.py):
/// DPT-Hybrid shrunk (every structure kept, widths small, 2 heads) with random F16 weights,
/// read from a torch.save'd .pt with the published key names.
struct MidasDetectorTests {
    static let images = ["astronaut", "coffee", "chelsea"]
    static let goldens = Result { try DetectorGoldens.file("depth.safetensors") }
    static let detector = MidasDetector(weights: DetectorGoldens.folder.appendingPathComponent("depth_tiny.pt"), heads: 2)

    /// The prediction within 1e-4 of its largest value: float32 through 12 transformer blocks,
    /// 6 bottlenecks and 4 fusion blocks, with other summation orders than torch's.
    @Test(arguments: images)
    func predictionMatchesTorch(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let prediction = try Self.detector.prediction(try DetectorGoldens.image(goldens, name))
        let expected = try goldens.tensor(named: "\(name).depth")
        #expect(prediction.shape == [1, expected.shape[0], expected.shape[1], 1])
        let error = DetectorGoldens.relativeError(prediction.scalars, expected.scalars)
        #expect(error < 1e-4, "\(name): relative error \(error)")
    }

    /// The 8-bit map: the prediction's float error moves a pixel across a truncation boundary
    /// only when it lies within ~1e-4 * 255 of one, so every pixel is within one level and at
    /// most 1% differ.
    @Test(arguments: images)
    func mapMatchesControlNetAux(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let map = DetectorGoldens.channel(try Self.detector.depthMap(try DetectorGoldens.image(goldens, name)))
        let expected = try DetectorGoldens.map(goldens, "\(name).map")
        #expect(map.count == expected.count)
        let differences = zip(map, expected).map { abs(Int($0) - Int($1)) }
        #expect((differences.max() ?? 0) <= 1, "\(name): a level differs by \(differences.max() ?? 0)")
        #expect(differences.filter { $0 > 0 }.count * 100 <= expected.count, "\(name): \(differences.filter { $0 > 0 }.count) levels differ")
    }

    /// Normalization by hand: min to 0, max to 255, truncation; a flat prediction is black.
    @Test func levelsNormalizeAndTruncate() {
        #expect(MidasDetector.levels(Tensor(shape: [4], values: [1, 2, 3, 5])) == [0, 63, 127, 255])
        #expect(MidasDetector.levels(Tensor(shape: [2], values: [0.5, 0.5])) == [0, 0])
    }

    /// A file that is not DPT-Hybrid's is refused, naming it and the key at fault; an image the
    /// network cannot take is refused, naming its size.
    @Test func wrongWeightsAndSizesAreRefused() throws {
        let other = MidasDetector(weights: DetectorGoldens.folder.appendingPathComponent("lines.safetensors"))
        #expect {
            _ = try other.detect(RGBImage(width: 64, height: 64))
        } throws: { error in
            guard case .invalidWeights(let modality, let file, let reason) = error as? DetectionError else { return false }
            return modality == "depth" && file == "lines.safetensors" && reason.contains("pretrained.model.")
        }
        #expect(throws: DetectionError.self) { _ = try Self.detector.prediction(RGBImage(width: 64, height: 96)) }
    }
}
