import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// HEDDetector against controlnet_aux's HEDdetector with the tiny random network of
/// Tests/Goldens/detectors/hed.py.
@Suite struct HEDDetectorTests {
    static let fixtures = Result { try DetectorFixtures("hed.safetensors") }

    static func image(_ name: String) throws -> RGBImage {
        try ImageDecoder.decode(Data(contentsOf: DetectorFixtures.folder.appendingPathComponent("\(name).png")))
    }

    static func detector() throws -> (HEDDetector, URL) {
        let models = try TinyDetectorWeights.modelsDirectory()
        return (try HEDDetector(weightsDirectory: TinyDetectorWeights.weightsDirectory(models, "scribble")), models)
    }

    @Test func networkMatchesTorch() throws {
        let fixtures = try Self.fixtures.get()
        let (detector, models) = try Self.detector()
        defer { try? FileManager.default.removeItem(at: models) }
        let input = ControlNetAuxImage.resizeImage(try Self.image("astronaut"), resolution: 512)
        let projections = detector.projections(input)
        for i in 1...4 {
            let expected = try fixtures.tensor("astronaut.projections.\(i)")
            #expect(projections[i].shape == expected.shape)
            // float32 convolutions summed in another order than torch's: relative 1e-4 of the
            // largest value (each layer adds a few ulps; eleven layers deep). Measured 1.1e-7
            // to 4.5e-7.
            let scale = max(expected.scalars.map(abs).max() ?? 1, 1)
            let worst = zip(projections[i].scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .nan
            #expect(worst <= 1e-4 * scale, "projection \(i): largest difference \(worst)")
        }
    }

    @Test(arguments: ["astronaut", "coffee", "chelsea"])
    func mapsMatchControlNetAux(name: String) throws {
        let fixtures = try Self.fixtures.get()
        let (detector, models) = try Self.detector()
        defer { try? FileManager.default.removeItem(at: models) }
        let image = try Self.image(name)
        let edges = detector.edgeMap(image)
        let expectedEdges = try fixtures.bytes("\(name).edges")
        #expect(edges.width == image.width && edges.height == image.height)
        let gray = stride(from: 0, to: edges.pixels.count, by: 3).map { edges.pixels[$0] }
        let edgeDifference = byteDifference(gray, expectedEdges)
        // The soft map is a float sigmoid truncated to a byte: a float32 difference in the
        // network moves a value across an integer only when it lies within ~1e-4 of one, so
        // some pixels could differ by 1 (then blended by the linear resize), none by more.
        // Measured: every pixel equal on the three images.
        #expect(edgeDifference.largest <= 1, "\(name): soft edges differ by up to \(edgeDifference.largest)")
        #expect(edgeDifference.count * 100 <= gray.count, "\(name): \(edgeDifference.count) soft edge pixels differ")

        let scribble = detector.detect(image)
        let expected = try fixtures.bytes("\(name).scribble")
        let binary = stride(from: 0, to: scribble.pixels.count, by: 3).map { scribble.pixels[$0] }
        let difference = byteDifference(binary, expected)
        // Binary strokes: a 1-level difference in the soft map can move a ridge of the
        // non-maximum suppression by a pixel; at most 0.5% of pixels may differ. Measured:
        // every pixel equal.
        #expect(difference.count * 200 <= binary.count, "\(name): \(difference.count) of \(binary.count) scribble pixels differ")
        #expect(binary.contains(255) == expected.contains(255))
    }

    @Test func missingWeightsNameTheFile() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-detectors-\(UUID().uuidString)")
        #expect(throws: DetectionError.missingWeights(modality: "scribble", file: "ControlNetHED.pth")) {
            try HEDDetector(weightsDirectory: empty)
        }
    }
}
