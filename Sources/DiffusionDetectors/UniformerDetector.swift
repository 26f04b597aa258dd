// Follows annotator/uniformer/__init__.py (UniformerDetector) of lllyasviel/ControlNet-v1-1-nightly
// and what it calls: mmseg's inference_segmentor with the config's test pipeline
// (configs/_base_/datasets/ade20k.py), EncoderDecoder.whole_inference and simple_test, and
// show_result_pyplot with opacity 1.
import DiffusionCore
import Foundation

/// The seg detector: ADE20k semantic segmentation by UniFormer-S + UperNet, each pixel painted in
/// its class's colour, as ControlNet 1.1's `UniformerDetector()(image)` makes it (the
/// preprocessor of the seg ControlNets, sd-webui-controlnet's `seg_ufade20k`), from the
/// published `upernet_global_small.pth` (lllyasviel/Annotators; Docs/DETECTORS.md).
///
/// The image is rescaled to fit 2048 x 512 (keeping its aspect, `cv2.INTER_LINEAR`), normalized
/// with ImageNet's mean and deviation after mmcv's `to_rgb` swap (the annotator is given RGB, so
/// the network sees BGR), and segmented; the logits are enlarged to the rescaled size, then to
/// the image's, and each pixel takes its highest class.
public struct UniformerDetector: Detector {
    public let modality = "seg"
    /// The detection resolution the ControlNet apps use: the short side the annotator is given.
    public static let detectResolution = 512
    /// The published weights' file name, looked for in `<models>/detectors/seg/`.
    public static let weightsFile = "upernet_global_small.pth"
    /// The test pipeline's `img_scale`: the largest long and short sides of the rescaled image.
    static let scale = (long: 2048.0, short: 512.0)
    /// The config's `img_norm_cfg`, in the order of the channels the network sees.
    static let mean: [Float] = [123.675, 116.28, 103.53]
    static let std: [Double] = [58.395, 57.12, 57.375]
    private let network: LazyNetwork<EncoderDecoder>

    /// A detector reading `weights` on first use.
    public init(weights: URL) {
        network = LazyNetwork(modality: "seg", url: weights, ignoring: EncoderDecoder.isUnused, EncoderDecoder.init)
    }

    /// ControlNet's `resize_image` to the detection resolution (`ControlNetAuxImage`), the map
    /// there, and the map resized back to the image's size (`cv2.INTER_LINEAR`).
    public func detect(_ image: RGBImage) throws -> RGBImage {
        try ControlNetAuxImage.detect(image, resolution: Self.detectResolution, segmentationMap)
    }

    /// The annotator's colour map of `image`, at its size.
    public func segmentationMap(_ image: RGBImage) throws -> RGBImage {
        Self.colours(Self.labels(try scores(image)), width: image.width, height: image.height)
    }

    /// The class scores `[1, h, w, classes]` at the image's size: the decode head's logits
    /// enlarged (bilinear, corners not aligned) to the rescaled image's size, then to the
    /// image's. mmseg's softmax is left out: it keeps each pixel's highest class.
    public func scores(_ image: RGBImage) throws -> Tensor {
        let rescaled = try Self.rescaled(image)
        var scores = try logits(of: rescaled).resizedBilinear(height: rescaled.height, width: rescaled.width, alignCorners: false)
        if rescaled.width != image.width || rescaled.height != image.height {
            scores = scores.resizedBilinear(height: image.height, width: image.width, alignCorners: false)
        }
        return scores
    }

    /// The decode head's logits `[1, h / 4, w / 4, classes]` of `image` after the test pipeline's rescale.
    public func logits(_ image: RGBImage) throws -> Tensor {
        try logits(of: try Self.rescaled(image))
    }

    private func logits(of rescaled: RGBImage) throws -> Tensor {
        try network.get()(Self.normalized(rescaled))
    }

    /// mmcv's `imrescale(image, (2048, 512))`: scaled by `min(2048 / long side, 512 / short
    /// side)`, each side `int(side * factor + 0.5)`, by `cv2.resize` with `INTER_LINEAR`.
    static func rescaled(_ image: RGBImage) throws -> RGBImage {
        // The four patch embeddings divide the sides by 32.
        let size = image.width > 0 && image.height > 0 ? rescaledSize(width: image.width, height: image.height) : (width: 0, height: 0)
        guard size.width >= 32, size.height >= 32 else {
            throw DetectionError.invalidImage(modality: "seg", reason:
                "UniFormer needs both sides of the rescaled image to be at least 32, not \(size.width)x\(size.height)")
        }
        return OpenCVResize.resize(image, width: size.width, height: size.height, interpolation: .linear)
    }

    public static func rescaledSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let (w, h) = (Double(width), Double(height))
        let factor = min(scale.long / max(w, h), scale.short / min(w, h))
        return (Int(w * factor + 0.5), Int(h * factor + 0.5))
    }

    /// mmcv's `imnormalize(image, mean, std, to_rgb=True)`: channels reversed, then
    /// `(x - mean) * (1 / std)`, the difference in float32 and the product in double, as
    /// `cv2.subtract` and `cv2.multiply` compute them with the double-precision scalars.
    public static func normalized(_ image: RGBImage) -> Tensor {
        var input = Tensor(uninitializedShape: [1, image.height, image.width, 3])
        let inverse = std.map { 1 / $0 }
        input.withUnsafeMutableBufferPointer { x in
            for pixel in 0..<image.width * image.height {
                for c in 0..<3 {
                    let difference = Float(image.pixels[pixel * 3 + 2 - c]) - mean[c]
                    x[pixel * 3 + c] = Float(Double(difference) * inverse[c])
                }
            }
        }
        return input
    }

    /// Each pixel's highest class (the first of equal ones, as `torch.argmax`).
    public static func labels(_ scores: Tensor) -> [Int] {
        let classes = max(scores.shape.last ?? 1, 1)
        return scores.withUnsafeBufferPointer { s in
            (0..<s.count / classes).map { pixel in
                let row = pixel * classes
                var best = 0
                for k in 1..<classes where s[row + k] > s[row + best] { best = k }
                return best
            }
        }
    }

    /// `show_result` with opacity 1: each pixel in its class's ADE20k colour (black past the 150 classes).
    public static func colours(_ labels: [Int], width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: labels.count * 3)
        for (pixel, label) in labels.enumerated() where label < ADE20kPalette.colours.count {
            let colour = ADE20kPalette.colours[label]
            (pixels[pixel * 3], pixels[pixel * 3 + 1], pixels[pixel * 3 + 2]) = (colour.red, colour.green, colour.blue)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
