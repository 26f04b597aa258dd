// Follows controlnet_aux/midas/__init__.py (MidasDetector, controlnet_aux 0.0.10, model_type "dpt_hybrid").
import DiffusionCore
import Foundation

/// The depth detector: MiDaS DPT-Hybrid's relative inverse depth as an 8-bit grey map (near is
/// white), as controlnet_aux's `MidasDetector()(image)` makes it, from the published
/// `dpt_hybrid-midas-501f0c75.pt` (lllyasviel/Annotators; Docs/DETECTORS.md).
///
/// The network sees the image at the detection resolution scaled to [-1, 1] (no other
/// normalization, no resize to 384 as MiDaS's own transform would); its prediction is shifted
/// to a minimum of 0, divided by its maximum, and scaled to 0...255 with truncation.
public struct MidasDetector: Detector {
    public let modality = "depth"
    /// controlnet_aux's `detect_resolution` (and `image_resolution`): the short side the network sees.
    public static let detectResolution = 512
    /// The published weights' file name, looked for in `<models>/detectors/depth/`.
    public static let weightsFile = "dpt_hybrid-midas-501f0c75.pt"
    private let network: LazyNetwork<DPTDepthModel>

    /// A detector reading `weights` on first use. `heads` is the ViT's attention head count,
    /// which the weights do not record; by default ViT's one head per 64 features (the
    /// published file's 768 give 12), and at least one.
    public init(weights: URL, heads: Int? = nil) {
        network = LazyNetwork(modality: "depth", url: weights, ignoring: DPTDepthModel.isUnused) { try DPTDepthModel($0, heads: heads) }
    }

    /// controlnet_aux's `resize_image` to the detection resolution (`ControlNetAuxImage`), the
    /// map there, and the map resized back to the image's size (`cv2.INTER_LINEAR`).
    public func detect(_ image: RGBImage) throws -> RGBImage {
        try ControlNetAuxImage.detect(image, resolution: Self.detectResolution, depthMap)
    }

    /// The map of an image at the detection resolution (sides multiples of 64): what
    /// MidasDetector returns when its `resize_image` leaves the image as it is.
    public func depthMap(_ image: RGBImage) throws -> RGBImage {
        let levels = Self.levels(try prediction(image))
        return RGBImage(width: image.width, height: image.height, pixels: levels.flatMap { [$0, $0, $0] })
    }

    /// The network's prediction `[1, h, w, 1]`, before normalization.
    public func prediction(_ image: RGBImage) throws -> Tensor {
        guard image.width > 0, image.height > 0, image.width % 64 == 0, image.height % 64 == 0 else {
            throw DetectionError.invalidImage(modality: modality, reason:
                "DPT-Hybrid runs on sides that are multiples of 64, not \(image.width)x\(image.height)")
        }
        var input = Tensor(uninitializedShape: [1, image.height, image.width, 3])
        input.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] = Float(image.pixels[i]) / 127.5 - 1 }
        }
        return try network.get()(input)
    }

    /// `(d - min) / max(d - min) * 255`, clipped and truncated to 8 bits, in float32 as torch and
    /// numpy compute it; a constant prediction (0 / 0 in torch) gives black.
    public static func levels(_ depth: Tensor) -> [UInt8] {
        let values = depth.scalars
        guard let low = values.min() else { return [] }
        let shifted = values.map { $0 - low }
        let high = shifted.max() ?? 0
        guard high > 0 else { return [UInt8](repeating: 0, count: values.count) }
        return shifted.map { UInt8(min(max(($0 / high) * 255, 0), 255)) }
    }
}
