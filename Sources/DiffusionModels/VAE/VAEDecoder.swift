// Follows diffusers' models/autoencoders/vae.py (Decoder).
import DiffusionCore

/// diffusers' `Decoder` (renamed: a type named `Decoder` would shadow Swift's Codable protocol in
/// this module): `conv_in`, `mid_block`, the `up_blocks` (block channels reversed, one more resnet
/// per level than the encoder), GroupNorm + activation, `conv_out`.
public struct VAEDecoder: Sendable {
    let convIn: Conv2D
    let midBlock: UNetMidBlock2D
    let upBlocks: [UpDecoderBlock2D]
    let convNormOut: GroupNorm
    let convOut: Conv2D
    let activation: Activation

    init(_ w: WeightScope, config c: AutoencoderKLConfig, activation: Activation) throws {
        let reversed = Array(c.blockOutChannels.reversed()), n = reversed.count
        convIn = try w["conv_in"].conv2d(c.latentChannels, reversed[0], kernel: 3, padding: 1)
        midBlock = try UNetMidBlock2D(
            w["mid_block"], channels: reversed[0], groups: c.normNumGroups, activation: activation,
            addAttention: c.midBlockAddAttention)
        upBlocks = try (0..<n).map { i in
            try UpDecoderBlock2D(
                w["up_blocks"][i], inChannels: reversed[max(i - 1, 0)], outChannels: reversed[i],
                layers: c.layersPerBlock + 1, groups: c.normNumGroups, activation: activation, addUpsample: i < n - 1)
        }
        convNormOut = try w["conv_norm_out"].groupNorm(groups: c.normNumGroups, channels: reversed[n - 1], epsilon: 1e-6)
        convOut = try w["conv_out"].conv2d(reversed[n - 1], c.outChannels, kernel: 3, padding: 1)
        self.activation = activation
    }

    /// Latents `[batch, h, w, latent_channels]` (after post_quant_conv) to the image `[batch, h * 2^(n-1), ..., out_channels]`.
    func callAsFunction(_ z: Tensor) throws -> Tensor {
        let h = upBlocks.reduce(try midBlock(convIn(z))) { $1($0) }
        return convOut(convNormOut(h, activation: activation))
    }
}
