// Follows controlnet_aux 0.0.10's util.py (HWC3, resize_image) and the detectors' final resize.
import DiffusionCore
import Foundation

/// controlnet_aux's preparation of a detector's input and of its output map.
///
/// Its detectors first call `HWC3` (gray repeated into three channels, alpha composited on
/// white), which is the identity on an `RGBImage`: the image decoders already give three
/// channels. Then `resize_image(image, detect_resolution)` scales the short side to the
/// resolution and rounds both sides to multiples of 64; the network sees that image. The map
/// comes back at that size and is resized with `cv2.INTER_LINEAR` to the output size.
public enum ControlNetAuxImage {
    /// The size `resize_image` gives a `width` x `height` image: both sides scaled by
    /// `resolution / min(width, height)` in double, then rounded (half to even, as `np.round`)
    /// to a multiple of 64.
    public static func detectSize(width: Int, height: Int, resolution: Int) -> (width: Int, height: Int) {
        let k = Double(resolution) / Double(min(width, height))
        func rounded(_ side: Int) -> Int { Int((Double(side) * k / 64).rounded(.toNearestOrEven)) * 64 }
        return (rounded(width), rounded(height))
    }

    /// `resize_image(image, resolution)`: Lanczos-4 when enlarging (`k > 1`), area otherwise.
    /// The short side becomes `resolution` rounded to 64 and the long side is no shorter, so a
    /// resolution of at least 32 never gives an empty image.
    public static func resizeImage(_ image: RGBImage, resolution: Int) -> RGBImage {
        precondition(resolution >= 32 && image.width > 0 && image.height > 0, "detect resolution \(resolution)")
        let size = detectSize(width: image.width, height: image.height, resolution: resolution)
        let k = Double(resolution) / Double(min(image.width, image.height))
        return OpenCVResize.resize(image, width: size.width, height: size.height, interpolation: k > 1 ? .lanczos4 : .area)
    }

    /// A map made at the detect size, back at `width` x `height` (`cv2.INTER_LINEAR`, as the
    /// detectors resize their map to `image_resolution`).
    public static func restore(_ map: RGBImage, width: Int, height: Int) -> RGBImage {
        OpenCVResize.resize(map, width: width, height: height, interpolation: .linear)
    }
}
