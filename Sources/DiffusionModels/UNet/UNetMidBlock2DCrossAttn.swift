// Follows diffusers' models/unets/unet_2d_blocks.py (UNetMidBlock2DCrossAttn).
import DiffusionCore

/// `resnets.0`, then per layer a Transformer2DModel (`attentions.i`) and `resnets.(i+1)`; the
/// resnets divide by `mid_block_scale_factor`.
public struct UNetMidBlock2DCrossAttn: Sendable {
    let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]

    init(
        _ w: WeightScope, channels: Int, crossAttention: (heads: Int, layers: Int, dim: Int), outputScaleFactor: Float,
        settings s: DownBlock2D.Settings
    ) throws {
        // diffusers' mid block always has one attention layer (num_layers = 1) between two resnets.
        resnets = try (0..<2).map {
            try ResnetBlock2D(
                w["resnets"][$0], inChannels: channels, outChannels: channels, tembChannels: s.tembChannels,
                groups: s.groups, epsilon: s.epsilon, activation: s.activation, outputScaleFactor: outputScaleFactor)
        }
        attentions = [
            try Transformer2DModel(
                w["attentions"][0], channels: channels, heads: crossAttention.heads, layers: crossAttention.layers,
                crossAttentionDim: crossAttention.dim, groups: s.groups, useLinearProjection: s.useLinearProjection)
        ]
    }

    func callAsFunction(_ x: Tensor, temb: Tensor, conditioning: UNetConditioning) throws -> Tensor {
        var h = resnets[0](x, temb: temb)
        for (attention, resnet) in zip(attentions, resnets.dropFirst()) {
            h = try attention(h, conditioning: conditioning)
            h = resnet(h, temb: temb)
        }
        return h
    }
}
