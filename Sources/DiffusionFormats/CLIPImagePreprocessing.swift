// Follows transformers' CLIPImageProcessorPil (image_processing_backends.PilBackend) and
// image_transforms.get_resize_output_image_size / center_crop / rescale / normalize.
import DiffusionCore
import Foundation

/// What `CLIPImageProcessor` does to an IP-Adapter reference image before the CLIP
/// vision encoder, as transformers' PIL backend does it.
///
/// With transformers 5 the plain `CLIPImageProcessor` name resolves to the torchvision
/// backend when torchvision is installed and to `CLIPImageProcessorPil` otherwise; the
/// pinned reference venv has no torchvision, so diffusers' IP-Adapter path runs the PIL
/// backend reproduced here (Pillow's bicubic on 8-bit pixels, then float32 arithmetic).
public enum CLIPImagePreprocessing {
    /// `OPENAI_CLIP_MEAN`, per RGB channel.
    public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    /// `OPENAI_CLIP_STD`, per RGB channel.
    public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// The whole of `CLIPImageProcessor(size=imageSize, crop_size=imageSize)(image).pixel_values`
    /// (what diffusers builds for an IP-Adapter image encoder of that `image_size`), as a
    /// [1, imageSize, imageSize, 3] NHWC tensor.
    ///
    /// - Throws: `ResampleError` for an empty image or size.
    public static func pixelValues(_ image: RGBImage, imageSize: Int) throws -> Tensor {
        try pixelValues(resizeAndCenterCrop(image, shortestEdge: imageSize, cropWidth: imageSize, cropHeight: imageSize))
    }

    /// The size `get_resize_output_image_size(size: shortestEdge, default_to_square: False)`
    /// picks: the short side becomes `shortestEdge`, the long side
    /// `int(shortestEdge * long / short)` (truncated, in double, as Python computes it).
    public static func resizedSize(width: Int, height: Int, shortestEdge: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(shortestEdge * long) / Double(short))
        return width <= height ? (shortestEdge, newLong) : (newLong, shortestEdge)
    }

    /// Resizes the short side to `shortestEdge` with Pillow's bicubic, then center-crops to
    /// `cropWidth` x `cropHeight` as transformers' `center_crop` does (offset
    /// `(size - crop) // 2`; a crop larger than the image pads with black, the image placed
    /// at `ceil((crop - size) / 2)`).
    ///
    /// - Throws: `ResampleError` for an empty image or sizes.
    /// Only the cropped window is resized (`RGBImage.resized(...columns:rows:)`), so the cost
    /// follows the crop, not the input's aspect ratio.
    ///
    /// - Throws: `ResampleError` for an empty image or sizes.
    public static func resizeAndCenterCrop(
        _ image: RGBImage, shortestEdge: Int, cropWidth: Int, cropHeight: Int
    ) throws -> RGBImage {
        guard cropWidth > 0, cropHeight > 0 else {
            throw ResampleError(message: "cannot crop to \(cropWidth)x\(cropHeight)")
        }
        let size = resizedSize(width: image.width, height: image.height, shortestEdge: shortestEdge)
        let left = cropOffset(size.width, cropWidth), top = cropOffset(size.height, cropHeight)
        let columns = max(left, 0)..<min(left + cropWidth, size.width), rows = max(top, 0)..<min(top + cropHeight, size.height)
        let window = try image.resized(width: size.width, height: size.height, filter: .bicubic, columns: columns, rows: rows)
        guard window.width != cropWidth || window.height != cropHeight else { return window }
        // A crop larger than the resized image pads with black around it.
        var out = RGBImage(width: cropWidth, height: cropHeight)
        let x = columns.lowerBound - left, y = rows.lowerBound - top
        for row in 0..<window.height {
            let target = 3 * ((y + row) * cropWidth + x), source = 3 * row * window.width
            out.pixels[target..<target + 3 * window.width] = window.pixels[source..<source + 3 * window.width]
        }
        return out
    }

    /// transformers' `center_crop` offset of the crop's first row or column in the image:
    /// floor((size - crop) / 2) when the crop fits, minus the padding ceil((crop - size) / 2)
    /// when not.
    private static func cropOffset(_ size: Int, _ crop: Int) -> Int {
        crop <= size ? (size - crop) / 2 : -((crop - size + 1) / 2)
    }

    /// The encoder's `pixel_values` for a preprocessed image, as a [1, height, width, 3]
    /// NHWC tensor: `float32(float64(p) * (1/255))`, then `(v - mean) / std` in float32,
    /// exactly transformers' `rescale` then `normalize`.
    public static func pixelValues(_ image: RGBImage) -> Tensor {
        var values = [Float](repeating: 0, count: image.pixels.count)
        for (i, sample) in image.pixels.enumerated() {
            let channel = i % 3
            let scaled = Float(Double(sample) * (1.0 / 255.0))
            values[i] = (scaled - mean[channel]) / std[channel]
        }
        return Tensor(shape: [1, image.height, image.width, 3], values: values)
    }
}
