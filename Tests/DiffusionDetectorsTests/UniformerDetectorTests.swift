import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import Foundation
import Testing

/// The seg detector against ControlNet 1.1's UniformerDetector (Tests/Goldens/detectors/seg.py):
/// UniFormer + UperNet shrunk (every structure kept; widths 16-128, 2 blocks a stage but the last,
/// the published 64 features a head) with random F16 weights, read from an mmcv checkpoint (`meta` and `state_dict`) saved
/// with torch.save, as the published file is.
struct UniformerDetectorTests {
    static let images = ["astronaut", "coffee", "room", "strip"]
    static let goldens = Result { try DetectorGoldens.file("seg.safetensors") }
    static let detector = UniformerDetector(weights: DetectorGoldens.folder.appendingPathComponent("seg_tiny.pth"))
    /// seg.py keeps the decode head's logits at every 16th row and column.
    static let stride = 16

    /// The decode head's logits within 1e-4 of their largest magnitude: float32 through 7
    /// blocks (three of them attention over up to 3,200 tokens) and the decoder's 13 convolutions,
    /// with BatchNorms folded and sums in other orders than torch's (measured 7.0e-7).
    @Test(arguments: images)
    func logitsMatchTheAnnotator(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let logits = try Self.detector.logits(try DetectorGoldens.image(goldens, name))
        let expected = try goldens.tensor(named: "\(name).logits")
        let (h, w, classes) = (logits.shape[1], logits.shape[2], logits.shape[3])
        #expect(expected.shape == [classes, (h + Self.stride - 1) / Self.stride, (w + Self.stride - 1) / Self.stride])
        let (rows, columns) = (expected.shape[1], expected.shape[2])
        var actual: [Float] = []
        for k in 0..<classes {
            for y in 0..<rows {
                for x in 0..<columns { actual.append(logits[flat: ((y * Self.stride) * w + x * Self.stride) * classes + k]) }
            }
        }
        let error = DetectorGoldens.relativeError(actual, expected.scalars)
        #expect(error < 1e-4, "\(name): relative error \(error)")
    }

    /// The colour map, pixel for pixel. Where the top two classes' scores are within float error
    /// of each other the argmax may go either way, so a pixel may differ only where this port's
    /// own score for the annotator's class is within 1e-4 of its largest magnitude of its best
    /// score, and at most 0.1% of pixels may (measured: none differ on the four images).
    @Test(arguments: images)
    func mapMatchesTheAnnotator(_ name: String) throws {
        let goldens = try Self.goldens.get()
        let image = try DetectorGoldens.image(goldens, name)
        let scores = try Self.detector.scores(image)
        let labels = UniformerDetector.labels(scores)
        let map = UniformerDetector.colours(labels, width: image.width, height: image.height)
        let expected = try DetectorGoldens.map(goldens, "\(name).map")
        #expect(map.pixels.count == expected.count)
        let classes = scores.shape[3]
        let tolerance = 1e-4 * (scores.scalars.map(abs).max() ?? 1)
        var differing = 0
        for pixel in 0..<labels.count where map.pixels[pixel * 3..<pixel * 3 + 3] != expected[pixel * 3..<pixel * 3 + 3] {
            differing += 1
            let theirs = (0..<classes).filter { UniformerDetector.colours([$0], width: 1, height: 1).pixels == Array(expected[pixel * 3..<pixel * 3 + 3]) }
            let best = scores[flat: pixel * classes + labels[pixel]]
            let closest = theirs.map { best - scores[flat: pixel * classes + $0] }.min() ?? .infinity
            #expect(closest <= tolerance, "\(name): pixel \(pixel) is class \(labels[pixel]), the annotator's \(theirs), \(closest) apart")
        }
        #expect(differing * 1000 <= labels.count, "\(name): \(differing) pixels differ")
    }

    /// mmcv's imrescale to fit 2048 x 512, by hand: 128x192 grows 4x; a 320x64 strip 6.4x to the
    /// long side's bound (64 * 6.4 = 409.6, rounded half up); 512x768 stays.
    @Test func rescaleFitsTheTestPipelinesScale() {
        #expect(UniformerDetector.rescaledSize(width: 192, height: 128) == (768, 512))
        #expect(UniformerDetector.rescaledSize(width: 320, height: 64) == (2048, 410))
        #expect(UniformerDetector.rescaledSize(width: 512, height: 768) == (512, 768))
    }

    /// mmcv's imnormalize after its BGR-to-RGB swap of an RGB image, by hand: channel 0 is blue.
    @Test func normalizationSwapsTheChannels() {
        let input = UniformerDetector.normalized(RGBImage(width: 1, height: 1, pixels: [255, 0, 10]))
        let expected: [Float] = [Float((10 - 123.675) / 58.395), Float((0 - 116.28) / 57.12), Float((255 - 103.53) / 57.375)]
        #expect(zip(input.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(input.scalars)")
    }

    /// The palette: the first and last of mmseg's ADE20k colours, and the class-6/48 duplicate.
    @Test func labelsPaintTheADE20kPalette() {
        let map = UniformerDetector.colours([0, 149, 6, 48], width: 4, height: 1)
        #expect(map.pixels == [120, 120, 120, 92, 0, 255, 140, 140, 140, 140, 140, 140])
        #expect(UniformerDetector.labels(Tensor(shape: [1, 1, 2, 3], values: [0, 2, 2, -1, -3, -2])) == [1, 0])
    }

    /// A file that is not UperNet's is refused, naming it and the key at fault; an image too
    /// thin for the network after the rescale is refused, naming its size.
    @Test func wrongWeightsAndSizesAreRefused() throws {
        let other = UniformerDetector(weights: DetectorGoldens.folder.appendingPathComponent("depth_tiny.pt"))
        #expect {
            _ = try other.segmentationMap(RGBImage(width: 64, height: 64))
        } throws: { error in
            guard case .invalidWeights(let modality, let file, let reason) = error as? DetectionError else { return false }
            return modality == "seg" && file == "depth_tiny.pt" && reason.contains("backbone.patch_embed1.proj.weight")
        }
        #expect(throws: DetectionError.self) { _ = try Self.detector.segmentationMap(RGBImage(width: 100, height: 1)) }
        #expect(throws: DetectionError.self) { _ = try Self.detector.segmentationMap(RGBImage(width: 0, height: 0)) }
    }
}
