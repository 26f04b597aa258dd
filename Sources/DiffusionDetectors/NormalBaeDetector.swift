// Follows controlnet_aux/normalbae/__init__.py (NormalBaeDetector, controlnet_aux 0.0.10).
import DiffusionCore
import Foundation

/// The normal-map detector: NormalBae's surface normals as an 8-bit RGB map, as controlnet_aux's
/// `NormalBaeDetector()(image)` makes it, from the published `scannet.pt`
/// (lllyasviel/Annotators; Docs/DETECTORS.md).
///
/// The network sees the image at the detection resolution scaled to 0...1 and normalized with
/// ImageNet's mean and deviation; its unit normals `n` become `(n + 1) / 2` clipped to 0...1,
/// times 255, truncated to bytes: x, y and z in R, G and B, as controlnet_aux keeps them.
public struct NormalBaeDetector: Detector {
    public let modality = "normal-map"
    /// controlnet_aux's `detect_resolution` (and `image_resolution`): the short side the network sees.
    public static let detectResolution = 512
    /// The published weights' file name, looked for in `<models>/detectors/normal-map/`.
    public static let weightsFile = "scannet.pt"
    /// torchvision's `Normalize` of the detector: ImageNet's channel means and deviations.
    static let mean: [Float] = [0.485, 0.456, 0.406]
    static let std: [Float] = [0.229, 0.224, 0.225]
    private let network: LazyNetwork<NNET>

    /// A detector reading `weights` on first use.
    public init(weights: URL) {
        network = LazyNetwork(modality: "normal-map", url: weights, ignoring: NNET.isUnused, NNET.init)
    }

    /// controlnet_aux's `resize_image` to the detection resolution (`ControlNetAuxImage`), the
    /// map there, and the map resized back to the image's size (`cv2.INTER_LINEAR`).
    public func detect(_ image: RGBImage) throws -> RGBImage {
        try ControlNetAuxImage.detect(image, resolution: Self.detectResolution, normalMap)
    }

    /// The map of an image at the detection resolution (sides multiples of 64): what
    /// NormalBaeDetector returns when its `resize_image` leaves the image as it is.
    public func normalMap(_ image: RGBImage) throws -> RGBImage {
        RGBImage(width: image.width, height: image.height, pixels: Self.levels(try normals(image)))
    }

    /// The network's unit normals `[1, h, w, 3]`.
    public func normals(_ image: RGBImage) throws -> Tensor {
        guard image.width > 0, image.height > 0, image.width % 32 == 0, image.height % 32 == 0 else {
            throw DetectionError.invalidImage(modality: modality, reason:
                "NormalBae runs on sides that are multiples of 32, not \(image.width)x\(image.height)")
        }
        var input = Tensor(uninitializedShape: [1, image.height, image.width, 3])
        input.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] = (Float(image.pixels[i]) / 255 - Self.mean[i % 3]) / Self.std[i % 3] }
        }
        return try network.get()(input)
    }

    /// `((n + 1) * 0.5).clip(0, 1) * 255`, clipped and truncated to bytes, in float32 as torch
    /// and numpy compute it; NaN (from a file of non-finite weights) gives 0, as numpy's cast
    /// does on x86.
    public static func levels(_ normals: Tensor) -> [UInt8] {
        normals.scalars.map { n in
            let unit = (n + 1) * 0.5
            return unit.isNaN ? 0 : UInt8(min(max(unit, 0), 1) * 255)
        }
    }
}
