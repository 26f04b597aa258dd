// Follows controlnet_aux 0.0.10's lineart/__init__.py (LineartDetector.__call__).
import DiffusionCore
import Foundation

/// The lineart detector: dark lines on white turned into white lines on black, as controlnet_aux's
/// `LineartDetector()(image, coarse=...)` makes them, from the published `sk_model.pth` (or, with
/// `coarse`, `sk_model2.pth`; lllyasviel/Annotators; Docs/DETECTORS.md).
///
/// The image at the detection resolution, scaled to 0...1, goes through the Generator
/// (`LineartGenerator`); its output times 255, clipped and truncated to a byte, is resized back
/// to the image's size (`cv2.INTER_LINEAR`) and inverted (`255 - map`), in that order.
public struct LineartDetector: Detector {
    public let modality = "lineart"
    /// controlnet_aux's `detect_resolution` (and `image_resolution`): the short side the network sees.
    public static let detectResolution = 512
    /// The published weights of the default model, looked for in `<models>/detectors/lineart/`.
    public static let weightsFile = "sk_model.pth"
    /// The published weights of the coarse model (`coarse=True`), beside the default one.
    public static let coarseWeightsFile = "sk_model2.pth"
    /// Whether this runs the coarse model; controlnet_aux's default is false.
    public let coarse: Bool
    private let network: LazyNetwork<LineartGenerator>

    /// A detector reading `sk_model.pth` (`sk_model2.pth` when `coarse`) from `directory`, or its
    /// safetensors conversion, on first use.
    ///
    /// - Throws: `DetectionError.missingWeights` naming the file when neither form is there.
    public init(weightsDirectory directory: URL, coarse: Bool = false) throws {
        self.coarse = coarse
        let url = try DetectorWeightsFile.locate(coarse ? Self.coarseWeightsFile : Self.weightsFile, modality: "lineart", in: directory)
        network = LazyNetwork(modality: "lineart", url: url, LineartGenerator.init)
    }

    /// controlnet_aux's `resize_image` to the detection resolution (`ControlNetAuxImage`), the
    /// network's map there, resized back to the image's size and inverted.
    public func detect(_ image: RGBImage) throws -> RGBImage {
        let map = try ControlNetAuxImage.detect(image, resolution: Self.detectResolution, lineMap)
        return RGBImage(width: map.width, height: map.height, pixels: map.pixels.map { 255 - $0 })
    }

    /// The network's map of an image at the detection resolution, before the inversion: dark
    /// lines on white, `line * 255` clipped and truncated, in three equal channels.
    public func lineMap(_ image: RGBImage) throws -> RGBImage {
        let line = try self.line(image)
        let levels = line.scalars.map { UInt8(min(max($0 * 255, 0), 255)) }
        return RGBImage(width: image.width, height: image.height, pixels: levels.flatMap { [$0, $0, $0] })
    }

    /// The network's output `[1, h, w, 1]` in 0...1 for an image as it is.
    public func line(_ image: RGBImage) throws -> Tensor {
        // The two stride-2 convolutions and their transposes give back the input's size only
        // when it divides by 4, and the residual blocks' reflection padding needs 2 pixels at a
        // quarter of it; resize_image's multiples of 64 always do.
        guard image.width >= 8, image.height >= 8, image.width % 4 == 0, image.height % 4 == 0 else {
            throw DetectionError.invalidImage(modality: modality, reason:
                "the lineart network runs on sides that are multiples of 4 from 8 up, not \(image.width)x\(image.height)")
        }
        var input = Tensor(uninitializedShape: [1, image.height, image.width, 3])
        input.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] = Float(image.pixels[i]) / 255 }
        }
        return try network.get()(input)
    }
}
