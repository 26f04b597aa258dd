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
    public static func resizeAndCenterCrop(
        _ image: RGBImage, shortestEdge: Int, cropWidth: Int, cropHeight: Int
    ) throws -> RGBImage {
        let size = resizedSize(width: image.width, height: image.height, shortestEdge: shortestEdge)
        // Only the part the crop keeps is resized: memory follows the crop, not the aspect ratio.
        func kept(_ size: Int, _ crop: Int) -> Range<Int> {
            crop <= size ? (size - crop) / 2..<(size - crop) / 2 + crop : 0..<size
        }
        let part = try image.resized(
            width: size.width, height: size.height, filter: .bicubic,
            columns: kept(size.width, cropWidth), rows: kept(size.height, cropHeight))
        return centerCropped(part, width: cropWidth, height: cropHeight)
    }

    /// transformers' `center_crop`, padding included.
    static func centerCropped(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        // Source offset of the crop's first row/column: floor((size - crop) / 2) when the
        // crop fits along that axis, minus the padding ceil((crop - size) / 2) when not.
        func offset(_ size: Int, _ crop: Int) -> Int {
            crop <= size ? (size - crop) / 2 : -((crop - size + 1) / 2)
        }
        let top = offset(image.height, height), left = offset(image.width, width)
        var out = RGBImage(width: width, height: height)
        let columns = max(0, -left)..<min(width, image.width - left)
        for y in 0..<height where (0..<image.height).contains(y + top) && !columns.isEmpty {
            let source = 3 * ((y + top) * image.width + left + columns.lowerBound)
            let target = 3 * (y * width + columns.lowerBound)
            out.pixels[target..<target + 3 * columns.count] = image.pixels[source..<source + 3 * columns.count]
        }
        return out
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
