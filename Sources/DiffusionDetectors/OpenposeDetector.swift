// Follows controlnet_aux 0.0.10's open_pose/__init__.py (OpenposeDetector, body only) and body.py.
import DiffusionCore
import Foundation

/// The pose map: controlnet_aux's `OpenposeDetector(image)` with its defaults
/// (`detect_resolution` 512, body only: no hands, no face), the map at the image's size.
///
/// The image is resized as `resize_image` does, then as `Body.__call__`: scaled by
/// `0.5 * 368 / height` (area), padded right and down to multiples of 8 with gray 128, fed to
/// the network as BGR `pixel / 256 - 0.5`. Its outputs are enlarged 8x (Lanczos-4, per
/// channel), cropped to the scaled image and resized to the detect size, decoded into people
/// (`BodyPoseDecoder`), and drawn as controlnet_aux draws them (`draw_bodypose`). The map is
/// resized back to the image's size (`cv2.INTER_LINEAR`). Weights: `body_pose_model.pth` from
/// lllyasviel/Annotators.
public struct OpenposeDetector: Detector {
    public let modality: String
    public let detectResolution: Int
    /// The published weights file, read from the modality's weights directory.
    public static let weightsFile = BodyPoseModel.fileName
    let model: BodyPoseModel

    /// Loads `body_pose_model.pth` from `directory`.
    ///
    /// - Throws: `DetectionError.missingWeights` when the file is absent, `.invalidWeights` when
    ///   it is not the body model's, or the checkpoint reader's error naming the file.
    public init(weightsDirectory directory: URL, modality: String = "pose", detectResolution: Int = 512) throws {
        self.modality = modality
        self.detectResolution = detectResolution
        model = try BodyPoseModel(weights: DetectorWeights(modality: modality, file: BodyPoseModel.fileName, in: directory))
    }

    public func detect(_ image: RGBImage) -> RGBImage {
        let input = ControlNetAuxImage.resizeImage(image, resolution: detectResolution)
        let maps = self.maps(input)
        let people = BodyPoseDecoder(width: input.width, height: input.height, heatmaps: maps.heatmaps, pafs: maps.pafs).decode()
        let canvas = BodyPoseDrawing.draw(people.people, candidates: people.peaks, width: input.width, height: input.height)
        return ControlNetAuxImage.restore(canvas, width: image.width, height: image.height)
    }

    /// The heatmaps `[h, w, 19]` and PAFs `[h, w, 38]` of an image already at the detect size,
    /// at its size, as float64 (controlnet_aux's `heatmap_avg`, `paf_avg`).
    func maps(_ image: RGBImage) -> (heatmaps: [Double], pafs: [Double]) {
        let scale = 0.5 * 368 / Double(image.height)
        let scaledWidth = Int(Double(image.width) * scale), scaledHeight = Int(Double(image.height) * scale)
        // smart_resize_k: area when shrinking ((h + w) scale < h + w), Lanczos-4 otherwise.
        let scaled = OpenCVResize.resize(image, width: scaledWidth, height: scaledHeight, interpolation: scale < 1 ? .area : .lanczos4)
        let outputs = model(Self.networkInput(scaled))
        return (Self.upsample(outputs.heatmaps, cropWidth: scaledWidth, cropHeight: scaledHeight, width: image.width, height: image.height),
                Self.upsample(outputs.pafs, cropWidth: scaledWidth, cropHeight: scaledHeight, width: image.width, height: image.height))
    }

    /// The network's last PAFs `[1, h/8, w/8, 38]` and heatmaps `[1, h/8, w/8, 19]` for a
    /// `networkInput`.
    public func networkOutputs(_ input: Tensor) -> (pafs: Tensor, heatmaps: Tensor) { model(input) }

    /// `padRightDownCorner(image, 8, 128)` then `float32(bgr) / 256 - 0.5`, NHWC.
    public static func networkInput(_ image: RGBImage) -> Tensor {
        let width = (image.width + 7) / 8 * 8, height = (image.height + 7) / 8 * 8
        var values = [Float](repeating: Float(128) / 256 - 0.5, count: width * height * 3)
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 {
                    // BGR: controlnet_aux reverses the channels before the network.
                    values[(y * width + x) * 3 + c] = Float(image.pixels[(y * image.width + x) * 3 + 2 - c]) / 256 - 0.5
                }
            }
        }
        return Tensor(shape: [1, height, width, 3], values: values)
    }

    /// A network output enlarged 8x (Lanczos-4), cropped to the unpadded size, resized to
    /// `width` x `height` (`smart_resize`: area when the sum of the sides shrinks, else Lanczos-4).
    public static func upsample(_ output: Tensor, cropWidth: Int, cropHeight: Int, width: Int, height: Int) -> [Double] {
        let (h, w, c) = (output.shape[1], output.shape[2], output.shape[3])
        let enlarged = OpenCVResize.resize(output, width: w * 8, height: h * 8, interpolation: .lanczos4)
        let cropped = enlarged.slice(axis: 1, 0..<cropHeight).slice(axis: 2, 0..<cropWidth)
        let shrinking = Double(height + width) / Double(cropHeight + cropWidth) < 1
        let resized = OpenCVResize.resize(cropped, width: width, height: height, interpolation: shrinking ? .area : .lanczos4)
        precondition(resized.shape == [1, height, width, c])
        return resized.scalars.map(Double.init)
    }
}
