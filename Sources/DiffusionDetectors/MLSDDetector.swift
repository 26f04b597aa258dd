// Follows controlnet_aux/mlsd/__init__.py (MLSDdetector, controlnet_aux 0.0.10).
import DiffusionCore
import Foundation

/// The lines (M-LSD) detector: white straight-line segments on black, as controlnet_aux's
/// `MLSDdetector()(image, thr_v, thr_d)` draws them, from the published
/// `mlsd_large_512_fp32.pth` (lllyasviel/Annotators; Docs/DETECTORS.md).
///
/// The network sees the RGB image and a constant fourth channel, scaled to [-1, 1]
/// (`MobileV2MLSDLarge`), at the detection resolution; its output is decoded into segments and
/// drawn (`MLSDDetector+Decoding.swift`).
public struct MLSDDetector: Detector {
    public let modality = "lines"
    /// controlnet_aux's `detect_resolution` (and `image_resolution`): the short side the network sees.
    public static let detectResolution = 512
    /// The published weights' file name, looked for in `<models>/detectors/lines/`.
    public static let weightsFile = "mlsd_large_512_fp32.pth"
    /// `thr_v`: the lowest centre score (a sigmoid) a segment is kept with.
    public let valueThreshold: Float
    /// `thr_d`: the shortest segment kept, in half-resolution pixels.
    public let distanceThreshold: Float
    private let network: LazyNetwork<MobileV2MLSDLarge>

    /// A detector reading `weights` on first use, with controlnet_aux's default thresholds.
    public init(weights: URL, valueThreshold: Float = 0.1, distanceThreshold: Float = 0.1) {
        self.valueThreshold = valueThreshold
        self.distanceThreshold = distanceThreshold
        // Of the last convolution only the channels the decoding reads are loaded; BatchNorm's
        // step counter is training state.
        network = LazyNetwork(modality: "lines", url: weights, ignoring: { $0.hasSuffix("num_batches_tracked") }, MobileV2MLSDLarge.init)
    }

    /// controlnet_aux's `resize_image` to the detection resolution (`ControlNetAuxImage`), the
    /// map there, and the map resized back to the image's size (`cv2.INTER_LINEAR`).
    public func detect(_ image: RGBImage) throws -> RGBImage {
        try ControlNetAuxImage.detect(image, resolution: Self.detectResolution, lineMap)
    }

    /// The map of an image at the detection resolution: what MLSDdetector returns when its
    /// `resize_image` leaves the image as it is. Sides that are not multiples of 16 give
    /// mismatched decoder shapes, on which controlnet_aux's network raises inside the `try` that
    /// then draws nothing: so a black map here too.
    public func lineMap(_ image: RGBImage) throws -> RGBImage {
        let lines = Self.draw(try segments(image), width: image.width, height: image.height)
        return RGBImage(width: image.width, height: image.height, pixels: lines.flatMap { [$0, $0, $0] })
    }

    /// pred_lines's segments, `[x_start, y_start, x_end, y_end]` in the image's pixels (none
    /// for sides that are not multiples of 16).
    public func segments(_ image: RGBImage) throws -> [[Double]] {
        guard let output = try output(image) else { return [] }
        return Self.segments(output, valueThreshold: valueThreshold, distanceThreshold: distanceThreshold)
    }

    /// The network's centre and displacement maps, `[1, h/2, w/2, 5]`; nil for sides that are
    /// not positive multiples of 16.
    public func output(_ image: RGBImage) throws -> Tensor? {
        guard image.width > 0, image.height > 0, image.width % 16 == 0, image.height % 16 == 0 else { return nil }
        let ones: Float = 1 / 127.5 - 1
        var input = Tensor(uninitializedShape: [1, image.height, image.width, 4])
        input.withUnsafeMutableBufferPointer { x in
            for p in 0..<image.width * image.height {
                for c in 0..<3 { x[4 * p + c] = Float(image.pixels[3 * p + c]) / 127.5 - 1 }
                x[4 * p + 3] = ones
            }
        }
        return try network.get()(input)
    }
}
