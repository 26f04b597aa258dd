// Follows controlnet_aux 0.0.10's hed/__init__.py (HEDdetector.__call__ with scribble=True).
import DiffusionCore
import Foundation

/// The scribble map: controlnet_aux's `HEDdetector(image, scribble=True)` with its defaults
/// (`detect_resolution` 512, `safe=False`), the map at the image's size.
///
/// The image is resized as `resize_image` does (`ControlNetAuxImage`), HED's edge map made at
/// that size, resized back to the image's size (`cv2.INTER_LINEAR`, where controlnet_aux
/// resizes to `image_resolution`), then thinned and thickened into binary strokes
/// (`ScribbleMap`). Weights: `ControlNetHED.pth` from lllyasviel/Annotators.
public struct HEDDetector: Detector {
    public let modality: String
    /// The short side the network sees (controlnet_aux's `detect_resolution`).
    public let detectResolution: Int
    /// The published weights file, read from the modality's weights directory.
    public static let weightsFile = ControlNetHED.fileName
    let network: ControlNetHED

    /// Loads `ControlNetHED.pth` from `directory`.
    ///
    /// - Throws: `DetectionError.missingWeights` when the file is absent, `.invalidWeights` when
    ///   it is not HED's, or the checkpoint reader's error naming the file.
    public init(weightsDirectory directory: URL, modality: String = "scribble", detectResolution: Int = 512) throws {
        self.modality = modality
        self.detectResolution = detectResolution
        network = try ControlNetHED(weights: DetectorWeights(modality: modality, file: ControlNetHED.fileName, in: directory))
    }

    public func detect(_ image: RGBImage) -> RGBImage {
        let map = edgeMap(image)
        let scribble = ScribbleMap.scribble(map.pixels.enumerated().compactMap { $0 % 3 == 0 ? $1 : nil },
                                            width: map.width, height: map.height)
        return RGBImage(width: map.width, height: map.height, pixels: scribble.flatMap { [$0, $0, $0] })
    }

    /// The network's five projections (scales 1 to 1/16, one channel) for an image already at
    /// the detect size.
    public func projections(_ input: RGBImage) -> [Tensor] { network(input) }

    /// HED's soft edge map (`scribble=False`) at the image's size, gray in three channels.
    public func edgeMap(_ image: RGBImage) -> RGBImage {
        let input = ControlNetAuxImage.resizeImage(image, resolution: detectResolution)
        let edges = network.edges(input)
        let map = RGBImage(width: input.width, height: input.height, pixels: edges.flatMap { [$0, $0, $0] })
        return ControlNetAuxImage.restore(map, width: image.width, height: image.height)
    }
}
