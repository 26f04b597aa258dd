// Follows diffusers' models/unets/unet_2d_blocks.py (CrossAttnUpBlock2D and UpBlock2D).
import DiffusionCore

/// One level of the UNet's decoder: each of `resnets` takes the running output concatenated (on
/// channels) with the next skip connection, popped from the end; a CrossAttnUpBlock2D follows each
/// with a Transformer2DModel; an optional `upsamplers.0` doubles the size.
public struct UpBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]
    let upsampler: Upsample2D?

    /// - Parameters:
    ///   - inChannels: the channels of this level's last skip connection (the level below's output).
    ///   - prevOutputChannels: the channels coming up from the block below.
    init(
        _ w: WeightScope, inChannels: Int, prevOutputChannels: Int, outChannels: Int, layers: Int,
        crossAttention: (heads: Int, layers: Int, dim: Int)?, addUpsample: Bool, settings s: DownBlock2D.Settings
    ) throws {
        resnets = try (0..<layers).map { i in
            let skipChannels = i == layers - 1 ? inChannels : outChannels
            let runningChannels = i == 0 ? prevOutputChannels : outChannels
            return try ResnetBlock2D(
                w["resnets"][i], inChannels: runningChannels + skipChannels, outChannels: outChannels,
                tembChannels: s.tembChannels, groups: s.groups, epsilon: s.epsilon, activation: s.activation)
        }
        attentions = try crossAttention.map { cross in
            try (0..<layers).map {
                try Transformer2DModel(
                    w["attentions"][$0], channels: outChannels, heads: cross.heads, layers: cross.layers,
                    crossAttentionDim: cross.dim, groups: s.groups, useLinearProjection: s.useLinearProjection)
            }
        } ?? []
        upsampler = addUpsample ? try Upsample2D(w["upsamplers"][0], channels: outChannels) : nil
    }

    /// The number of skip connections the block consumes.
    var skipCount: Int { resnets.count }

    /// - Parameters:
    ///   - skips: this block's skip connections, in the order the down blocks produced them.
    ///   - upsampleSize: the size to upsample to (the next skip's), when it is not twice this one.
    func callAsFunction(
        _ x: Tensor, skips: [Tensor], temb: Tensor, conditioning: UNetConditioning, upsampleSize: (height: Int, width: Int)?
    ) throws -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            h = resnet(Tensor.concatenate([h, skips[skips.count - 1 - i]], axis: 3), temb: temb)
            if !attentions.isEmpty {
                h = try attentions[i](h, conditioning: conditioning)
            }
        }
        return upsampler.map { $0(h, size: upsampleSize) } ?? h
    }
}
