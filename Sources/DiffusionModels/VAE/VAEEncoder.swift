// Follows diffusers' models/autoencoders/vae.py (Encoder, double_z=True).
import DiffusionCore

/// diffusers' `Encoder` (prefixed like `VAEDecoder`, whose plain name would shadow Swift's
/// `Decoder` protocol in this module): `conv_in`, the `down_blocks`, `mid_block`, GroupNorm + activation, and `conv_out` to
/// twice the latent channels (mean and log-variance).
public struct VAEEncoder: Sendable {
    let convIn: Conv2D
    let downBlocks: [DownEncoderBlock2D]
    let midBlock: UNetMidBlock2D
    let convNormOut: GroupNorm
    let convOut: Conv2D
    let activation: Activation

    init(_ w: WeightScope, config c: AutoencoderKLConfig, activation: Activation) throws {
        let channels = c.blockOutChannels, n = channels.count
        convIn = try w["conv_in"].conv2d(c.inChannels, channels[0], kernel: 3, padding: 1)
        downBlocks = try (0..<n).map { i in
            try DownEncoderBlock2D(
                w["down_blocks"][i], inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: channels[i],
                layers: c.layersPerBlock, groups: c.normNumGroups, activation: activation, addDownsample: i < n - 1)
        }
        midBlock = try UNetMidBlock2D(
            w["mid_block"], channels: channels[n - 1], groups: c.normNumGroups, activation: activation,
            addAttention: c.midBlockAddAttention)
        convNormOut = try w["conv_norm_out"].groupNorm(groups: c.normNumGroups, channels: channels[n - 1], epsilon: 1e-6)
        convOut = try w["conv_out"].conv2d(channels[n - 1], 2 * c.latentChannels, kernel: 3, padding: 1)
        self.activation = activation
    }

    /// `[batch, h, w, in_channels]` to the moments `[batch, h', w', 2 * latent_channels]`.
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try midBlock(downBlocks.reduce(convIn(x)) { $1($0) })
        return convOut(convNormOut(h, activation: activation))
    }
}
