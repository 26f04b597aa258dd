// Follows controlnet_aux 0.0.10's hed/__init__.py (ControlNetHED_Apache2, HEDdetector).
import DiffusionCore
import Foundation

/// lllyasviel's HED network (`ControlNetHED_Apache2`, `ControlNetHED.pth`): a VGG-style trunk of
/// five blocks of 3x3 convolutions with ReLU, each block after the first starting with a 2x2
/// max pool, and each ending in a 1x1 projection to one channel: five edge maps at scales 1 to
/// 1/16. The input is RGB in 0...255 minus a learned per-channel offset (`norm`).
///
/// Channel counts are read from the weights (the published file has 64, 128, 256, 512, 512),
/// so the tests' tiny random network runs through the same code.
struct ControlNetHED: Sendable {
    /// The published file's name.
    static let fileName = "ControlNetHED.pth"
    /// Convolutions per block, as the class builds them.
    static let layers = [2, 2, 3, 3, 3]

    let norm: [Float]
    let blocks: [(convs: [Conv2D], projection: Conv2D)]

    init(weights: DetectorWeights) throws {
        norm = try weights.tensor("norm", shape: [1, 3, 1, 1]).scalars
        var channels = 3
        var blocks: [(convs: [Conv2D], projection: Conv2D)] = []
        for (index, count) in Self.layers.enumerated() {
            let prefix = "block\(index + 1)"
            var convs: [Conv2D] = []
            for j in 0..<count {
                let conv = try weights.conv("\(prefix).convs.\(j)", inChannels: channels)
                channels = conv.outChannels
                convs.append(conv)
            }
            let projection = try weights.conv("\(prefix).projection", inChannels: channels)
            guard projection.outChannels == 1, projection.kernelHeight == 1 else {
                throw weights.invalid("\(prefix).projection.weight", "must be a 1x1 convolution to one channel")
            }
            blocks.append((convs, projection))
        }
        self.blocks = blocks
    }

    /// The five projections for an image, each `[1, h / 2^i, w / 2^i, 1]` (sizes floored).
    func callAsFunction(_ image: RGBImage) -> [Tensor] {
        var h = Tensor(shape: [1, image.height, image.width, 3], values: image.pixels.enumerated().map { Float($1) - norm[$0 % 3] })
        var projections: [Tensor] = []
        for (index, block) in blocks.enumerated() {
            if index > 0 { h = MaxPool2D(kernelSize: 2)(h) }
            for conv in block.convs { h = conv(h).map { max($0, 0) } }
            projections.append(block.projection(h))
        }
        return projections
    }

    /// HEDdetector's edge map at the image's size: each projection resized to it (float
    /// `cv2.INTER_LINEAR`), their float32 mean through a float64 sigmoid, times 255, clipped and
    /// truncated to a byte.
    func edges(_ image: RGBImage) -> [UInt8] {
        let maps = self(image).map {
            OpenCVResize.resize($0, width: image.width, height: image.height, interpolation: .linear).scalars
        }
        return (0..<(image.width * image.height)).map { i in
            var sum: Float = 0
            for map in maps { sum += map[i] }
            let edge = 1 / (1 + exp(-Double(sum / Float(maps.count))))
            return UInt8(min(max(edge * 255, 0), 255))
        }
    }
}
