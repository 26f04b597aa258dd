// Follows the down and mid blocks of diffusers' UNet2DConditionModel.__init__, which ControlNetModel copies.
import DiffusionCore

/// The encoder half of a UNet: its down blocks and mid block, built the way diffusers wires them.
/// A ControlNet is a copy of exactly this part.
struct UNetEncoderBlocks: Sendable {
    let settings: DownBlock2D.Settings
    let down: [DownBlock2D]
    let mid: UNetMidBlock2DCrossAttn

    init(_ w: WeightScope, config: UNet2DConditionConfig, layout: UNet2DConditionConfig.Layout) throws {
        let channels = config.blockOutChannels, n = channels.count
        settings = DownBlock2D.Settings(
            tembChannels: 4 * channels[0], groups: layout.groups, epsilon: config.normEps, activation: layout.activation,
            useLinearProjection: config.useLinearProjection)
        down = try (0..<n).map { [settings] i in
            try DownBlock2D(
                w["down_blocks"][i], inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: channels[i],
                layers: layout.layersPerBlock[i],
                crossAttention: config.downBlockTypes[i].hasPrefix("CrossAttn") ? layout.crossAttention(i) : nil,
                addDownsample: i < n - 1, downsamplePadding: config.downsamplePadding, settings: settings)
        }
        mid = try UNetMidBlock2DCrossAttn(
            w["mid_block"], channels: channels[n - 1], crossAttention: layout.crossAttention(n - 1),
            outputScaleFactor: config.midBlockScaleFactor, settings: settings)
    }

    /// Runs the down blocks and the mid block: the mid block's output and every skip connection
    /// (the input first, as diffusers' `down_block_res_samples`).
    func callAsFunction(_ x: Tensor, temb: Tensor, conditioning: UNetConditioning) throws -> (mid: Tensor, skips: [Tensor]) {
        var h = x
        var skips = [x]
        for block in down {
            let (output, blockSkips) = try block(h, temb: temb, conditioning: conditioning)
            h = output
            skips += blockSkips
        }
        return (try mid(h, temb: temb, conditioning: conditioning), skips)
    }
}

extension UNet2DConditionConfig.Layout {
    /// Block `i`'s cross-attention: heads, transformer layers and the width of the tokens it attends to.
    func crossAttention(_ i: Int) -> (heads: Int, layers: Int, dim: Int) {
        (heads[i], transformerLayersPerBlock[i], crossAttentionDim[i])
    }
}
