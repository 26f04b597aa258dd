import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import DiffusionTestSupport
import Testing

/// The lines detector against controlnet_aux's MLSDdetector (Tests/Goldens/detectors/lines.py):
/// the full-size M-LSD on seeded weights, its decoding and cv2.line's drawing.
struct MLSDDetectorTests {
    static let images = ["astronaut", "coffee", "chelsea", "room"]
    static let goldens = Result { try DetectorGoldens.file("lines.safetensors") }
    /// The seeded weights, written once for all tests (1.5M parameters).
    static let weights = Result { try SeededWeights.write(manifest: "lines_weights.json", as: "mlsd.safetensors") }

    static func detector(valueThreshold: Float = 0.1, distanceThreshold: Float = 0.1) throws -> MLSDDetector {
        MLSDDetector(weights: try weights.get(), valueThreshold: valueThreshold, distanceThreshold: distanceThreshold)
    }

    /// The network's output within 1e-4 of its largest magnitude: about 40 float32 layers whose
    /// folded BatchNorms and summation orders differ from torch's, each adding ~1e-6 relative.
    @Test(arguments: images)
    func networkMatchesTorch(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let output = try #require(try Self.detector().output(try DetectorGoldens.image(goldens, name)))
        let expected = try goldens.tensor(named: "\(name).output")  // [5, h, w]
        #expect(output.shape == [1, expected.shape[1], expected.shape[2], 5])
        let error = DetectorGoldens.relativeError(output.nhwcToNCHW().scalars, expected.scalars)
        #expect(error < 1e-4, "\(name): relative error \(error)")
    }

    /// The decoded segments are controlnet_aux's, each within 1e-3 pixels of one of its (the
    /// network's float tolerance scaled by the displacements; the order of equal scores is
    /// torch.topk's, so sets are compared), and the drawn map is identical.
    @Test(arguments: images)
    func linesMatchControlNetAux(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let image = try DetectorGoldens.image(goldens, name)
        let detector = try Self.detector()
        let segments = try detector.segments(image)
        let expected = try goldens.tensor(named: "\(name).segments")
        let reference = (0..<expected.shape[0]).map { i in (0..<4).map { Double(expected.scalars[4 * i + $0]) } }
        #expect(segments.count == reference.count, "\(name): \(segments.count) segments, not \(reference.count)")
        var unmatched = reference
        for segment in segments {
            let match = unmatched.firstIndex { zip($0, segment).allSatisfy { abs($0 - $1) < 1e-3 } }
            #expect(match != nil, "\(name): segment \(segment) is not controlnet_aux's")
            if let match { unmatched.remove(at: match) }
        }
        let map = DetectorGoldens.channel(try detector.lineMap(image))
        #expect(map == (try DetectorGoldens.map(goldens, "\(name).map")), "\(name): the line maps differ")
    }

    /// cv2.line's pixels for controlnet_aux's own segments (clipping included).
    @Test(arguments: images + ["constructed", "constructed.strict"])
    func drawingMatchesOpenCV(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let image = try DetectorGoldens.image(goldens, name.hasPrefix("constructed") ? "constructed" : name)
        let segments = try goldens.tensor(named: "\(name).segments")
        let rows = (0..<segments.shape[0]).map { i in (0..<4).map { Double(segments.scalars[4 * i + $0]) } }
        let map = MLSDDetector.draw(rows, width: image.width, height: image.height)
        #expect(map == (try DetectorGoldens.map(goldens, "\(name).map")))
    }

    /// A constructed network output with long lines, a weak peak, a short line, a plateau and
    /// ends outside the image, decoded at both threshold pairs: exactly controlnet_aux's
    /// segments (the inputs are dyadic, so every sum is exact) and map.
    @Test(arguments: [("constructed", Float(0.1), Float(0.1)), ("constructed.strict", Float(0.5), Float(20))])
    func decodingMatchesPredLines(_ key: String, _ valueThreshold: Float, _ distanceThreshold: Float) throws {
        let goldens = try Self.goldens.get()
        let output = try goldens.tensor(named: "constructed.output").nchwToNHWCUnbatched()
        let segments = MLSDDetector.segments(output, valueThreshold: valueThreshold, distanceThreshold: distanceThreshold)
        let expected = try goldens.tensor(named: "\(key).segments")
        #expect(segments.flatMap { $0 }.map(Float.init) == expected.scalars)
        let image = try DetectorGoldens.image(goldens, "constructed")
        #expect(MLSDDetector.draw(segments, width: image.width, height: image.height) == (try DetectorGoldens.map(goldens, "\(key).map")))
    }

    /// A file that is not M-LSD's is refused, naming it and the key at fault.
    @Test func otherWeightsAreRefused() throws {
        let url = DetectorGoldens.folder.appendingPathComponent("depth_tiny.pt")
        let image = RGBImage(width: 64, height: 64)
        #expect {
            _ = try MLSDDetector(weights: url).detect(image)
        } throws: { error in
            guard case .invalidWeights(let modality, let file, let reason) = error as? DetectionError else { return false }
            return modality == "lines" && file == "depth_tiny.pt" && reason.contains("backbone.features.0.0.weight")
        }
    }
}

extension Tensor {
    /// `[c, h, w]` to `[1, h, w, c]`.
    func nchwToNHWCUnbatched() -> Tensor { reshaped([1] + shape).nchwToNHWC() }
}
