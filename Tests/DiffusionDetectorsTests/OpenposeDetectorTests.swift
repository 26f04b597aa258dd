import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// OpenposeDetector against controlnet_aux's OpenposeDetector (Tests/Goldens/detectors/pose.py):
/// the tiny random network, and the decoding and drawing of fixed network outputs.
@Suite struct OpenposeDetectorTests {
    static let fixtures = Result { try DetectorFixtures("pose.safetensors") }

    @Test func networkMatchesTorch() throws {
        let fixtures = try Self.fixtures.get()
        let models = try TinyDetectorWeights.modelsDirectory()
        defer { try? FileManager.default.removeItem(at: models) }
        let detector = try OpenposeDetector(weightsDirectory: TinyDetectorWeights.weightsDirectory(models, "pose"))
        let image = try ImageDecoder.decode(Data(contentsOf: DetectorFixtures.folder.appendingPathComponent("astronaut.png")))
        let input = ControlNetAuxImage.resizeImage(image, resolution: 512)
        let scale = 0.5 * 368 / Double(input.height)
        let scaled = OpenCVResize.resize(input, width: Int(Double(input.width) * scale), height: Int(Double(input.height) * scale),
                                         interpolation: .area)
        let outputs = detector.networkOutputs(OpenposeDetector.networkInput(scaled))
        for (actual, name) in [(outputs.pafs, "network.pafs"), (outputs.heatmaps, "network.heatmaps")] {
            let expected = try fixtures.file.tensor(named: name).nchwToNHWC()
            #expect(actual.shape == expected.shape)
            // float32 convolutions in another order than torch's, 36 layers deep: 1e-4 of the
            // largest value (measured 3.1e-5).
            let scaleOfValues = max(expected.scalars.map(abs).max() ?? 1, 1)
            let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
            #expect(worst <= 1e-4 * scaleOfValues, "\(name): largest difference \(worst)")
        }
    }

    /// The fixed outputs of two hand-made skeletons, decoded and drawn: the same peaks, the
    /// same people and the same pixels as controlnet_aux.
    @Test func decodingAndDrawingMatchControlNetAux() throws {
        let fixtures = try Self.fixtures.get()
        let (width, height) = (768, 512)
        let pafs = try fixtures.file.tensor(named: "decode.pafs").nchwToNHWC()
        let heatmaps = try fixtures.file.tensor(named: "decode.heatmaps").nchwToNHWC()
        let (scaledWidth, scaledHeight) = (276, 184)
        let decoder = BodyPoseDecoder(
            width: width, height: height,
            heatmaps: OpenposeDetector.upsample(heatmaps, cropWidth: scaledWidth, cropHeight: scaledHeight, width: width, height: height),
            pafs: OpenposeDetector.upsample(pafs, cropWidth: scaledWidth, cropHeight: scaledHeight, width: width, height: height))
        let (peaks, people) = decoder.decode()

        let candidate = try fixtures.file.tensor(named: "decode.candidate").scalars
        #expect(peaks.count * 4 == candidate.count)
        for (k, peak) in peaks.enumerated() where 4 * k + 3 < candidate.count {
            #expect(Float(peak.x) == candidate[4 * k] && Float(peak.y) == candidate[4 * k + 1] && Float(peak.id) == candidate[4 * k + 3])
            // Scores are heatmap values after two float32 resizes, whose sums OpenCV's vector
            // code orders differently: a few float32 ulps.
            #expect(abs(Float(peak.score) - candidate[4 * k + 2]) <= 1e-5)
        }
        let subset = try fixtures.file.tensor(named: "decode.subset").scalars
        #expect(people.count * 20 == subset.count)
        for (p, person) in people.enumerated() where 20 * p + 19 < subset.count {
            #expect(person.parts.map(Float.init) == Array(subset[(20 * p)..<(20 * p + 18)]))
            #expect(abs(Float(person.score) - subset[20 * p + 18]) <= 1e-4)
            #expect(Float(person.count) == subset[20 * p + 19])
        }

        let map = BodyPoseDrawing.draw(people, candidates: peaks, width: width, height: height)
        let expected = try ImageDecoder.decode(Data(contentsOf: DetectorFixtures.folder.appendingPathComponent("decode_map.png")))
        let difference = byteDifference(map.pixels, expected.pixels)
        // Integer drawing from identical keypoints: every pixel equal.
        #expect(difference.count == 0, "\(difference.count) map bytes differ, by up to \(difference.largest)")
    }

    /// Limbs whose ellipses cross every edge of the canvas, where OpenCV clips the outline.
    @Test func drawingAtTheBordersMatchesControlNetAux() throws {
        let keypoints: [(x: Double, y: Double)?] = [
            (0.5, 0.02), (0.5, 0.2), (0.02, 0.2), (0.0, 0.6), (0.01, 0.99), (0.98, 0.2), (1.0, 0.55), (0.99, 0.995),
            (0.3, 0.6), (0.25, 0.9), (0.2, 1.0), (0.7, 0.6), (0.75, 0.85), (0.8, 0.999), (0.45, 0.0), (0.55, 0.0),
            (0.4, 0.01), (0.6, 0.01),
        ]
        let map = BodyPoseDrawing.draw(keypoints: [keypoints], width: 200, height: 150)
        let expected = try ImageDecoder.decode(Data(contentsOf: DetectorFixtures.folder.appendingPathComponent("border_map.png")))
        let difference = byteDifference(map.pixels, expected.pixels)
        // Integer drawing: every pixel equal.
        #expect(difference.count == 0, "\(difference.count) map bytes differ, by up to \(difference.largest)")
    }

    @Test func missingWeightsNameTheFile() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-detectors-\(UUID().uuidString)")
        #expect(throws: DetectionError.missingWeights(modality: "pose", file: "body_pose_model.pth")) {
            try OpenposeDetector(weightsDirectory: empty)
        }
    }
}
