import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// `CLIPImagePreprocessing` against transformers' CLIPImageProcessor (PIL backend)
/// (Tests/Goldens/images/clip.safetensors).
@Suite struct CLIPImagePreprocessingTests {
    let goldens: SafeTensorsFile
    let cases = ["landscape", "portrait", "upscale", "crop_larger", "identity", "pattern_112"]

    init() throws {
        goldens = try SafeTensorsFile(contentsOf: imageGoldens.appendingPathComponent("clip.safetensors"))
    }

    /// Resize (Pillow bicubic, transformers' size rule) and center crop are integer
    /// operations on 8-bit pixels: exact.
    @Test func resizesAndCropsExactlyAsTransformers() throws {
        for name in cases {
            let (source, edge, cropHeight, cropWidth) = try inputs(name)
            let crop = try CLIPImagePreprocessing.resizeAndCenterCrop(
                source, shortestEdge: edge, cropWidth: cropWidth, cropHeight: cropHeight)
            #expect(crop == (try goldenImage(goldens, "\(name)/crop")), "\(name)")
        }
    }

    /// Rescale and normalize repeat numpy's float64-then-float32 steps operation for
    /// operation, so the values are bit-identical.
    @Test func pixelValuesAreTransformersBitForBit() throws {
        for name in cases where !name.hasPrefix("pattern") {
            let crop = try goldenImage(goldens, "\(name)/crop")
            let values = CLIPImagePreprocessing.pixelValues(crop)
            #expect(values.shape == [1, crop.height, crop.width, 3])
            // The golden is channels-first [3, height, width].
            let expected = try goldens.tensor(named: "\(name)/pixel_values").scalars
            let plane = crop.width * crop.height
            let nhwc = values.scalars
            let mismatches = (0..<nhwc.count).filter { nhwc[$0] != expected[($0 % 3) * plane + $0 / 3] }
            #expect(mismatches.isEmpty, "\(name): \(mismatches.count) values differ")
        }
    }

    /// The one-call form is the two steps with a square size.
    @Test func preprocessesInOneCall() throws {
        let (source, edge, _, _) = try inputs("landscape")
        let crop = try CLIPImagePreprocessing.resizeAndCenterCrop(source, shortestEdge: edge, cropWidth: edge, cropHeight: edge)
        let values = try CLIPImagePreprocessing.pixelValues(source, imageSize: edge)
        #expect(values.shape == [1, edge, edge, 3])
        #expect(values.scalars == CLIPImagePreprocessing.pixelValues(crop).scalars)
    }

    @Test func picksTheSizeAsTransformers() {
        #expect(CLIPImagePreprocessing.resizedSize(width: 640, height: 480, shortestEdge: 224) == (298, 224))
        #expect(CLIPImagePreprocessing.resizedSize(width: 480, height: 640, shortestEdge: 224) == (224, 298))
        // int(224 * 1000 / 333) = int(672.672...) = 672.
        #expect(CLIPImagePreprocessing.resizedSize(width: 1000, height: 333, shortestEdge: 224) == (672, 224))
        #expect(CLIPImagePreprocessing.resizedSize(width: 50, height: 50, shortestEdge: 224) == (224, 224))
    }

    private func inputs(_ name: String) throws -> (RGBImage, Int, Int, Int) {
        let sizes = try goldens.tensor(named: "\(name)/edge").scalars.map { Int($0) }
        let source = name.hasPrefix("pattern")
            ? patternImage(width: 512, height: 384) : try goldenImage(goldens, "\(name)/source")
        return (source, sizes[0], sizes[1], sizes[2])
    }
}
