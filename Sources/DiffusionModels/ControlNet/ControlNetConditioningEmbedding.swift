// Follows diffusers' models/controlnets/controlnet.py (ControlNetConditioningEmbedding).
import DiffusionCore

/// The small convolution stack that brings the control image `[batch, 8h, 8w, 3]` down to the
/// latent grid `[batch, h, w, block_out_channels[0]]`: `conv_in`, pairs of 3x3 convolutions (the
/// second of each pair with stride 2) in `blocks`, `conv_out`, with SiLU between them.
struct ControlNetConditioningEmbedding: Sendable {
    let convIn: Conv2D
    let blocks: [Conv2D]
    let convOut: Conv2D

    init(_ w: WeightScope, conditioningChannels: Int, channels: [Int], embeddingChannels: Int) throws {
        convIn = try w["conv_in"].conv2d(conditioningChannels, channels[0], kernel: 3, padding: 1)
        blocks = try (0..<channels.count - 1).flatMap { i in
            [try w["blocks"][2 * i].conv2d(channels[i], channels[i], kernel: 3, padding: 1),
             try w["blocks"][2 * i + 1].conv2d(channels[i], channels[i + 1], kernel: 3, stride: 2, padding: 1)]
        }
        convOut = try w["conv_out"].conv2d(channels[channels.count - 1], embeddingChannels, kernel: 3, padding: 1)
    }

    /// The factor by which the stack shrinks the image: 2 per stride-2 convolution.
    var downscale: Int { 1 << (blocks.count / 2) }

    func callAsFunction(_ image: Tensor) -> Tensor {
        var h = convIn(image).applying(.silu)
        for block in blocks { h = block(h).applying(.silu) }
        return convOut(h)
    }
}
