// Follows diffusers' models/unets/unet_2d_condition.py (UNet2DConditionModel).
import DiffusionCore
import Foundation

/// The conditional denoising UNet of SD1.5, SD2 and SDXL, built from a diffusers `unet/` folder.
///
/// Tensors are NHWC: the forward takes latents `[batch, h, w, in_channels]` and returns the
/// prediction in the same layout.
public struct UNet2DConditionModel: Sendable {
    public let config: UNet2DConditionConfig
    let convIn: Conv2D
    let timeProj: Timesteps
    let timeEmbedding: TimestepEmbedding
    /// SDXL's `text_time` added embedding: the time ids' sinusoidal embedding and its MLP.
    let addTimeProj: Timesteps?
    let addEmbedding: TimestepEmbedding?
    public let downBlocks: [DownBlock2D]
    public let midBlock: UNetMidBlock2DCrossAttn
    public let upBlocks: [UpBlock2D]
    let convNormOut: GroupNorm
    let convOut: Conv2D
    let activation: Activation

    /// Loads `unet/config.json` and `unet/diffusion_pytorch_model.safetensors` from `folder`.
    public init(folder: URL) throws {
        let config = try UNet2DConditionConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        let store = try WeightStore(contentsOf: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        try self.init(config: config, weights: store)
        try store.checkAllUsed()
    }

    /// Builds the model from `weights`; the caller checks afterwards that every weight was used.
    public init(config: UNet2DConditionConfig, weights: WeightStore) throws {
        let layout = try config.layout()
        let w = weights.root
        let channels = config.blockOutChannels
        let timeEmbedDim = channels[0] * 4
        self.config = config
        activation = layout.activation
        convIn = try w["conv_in"].conv2d(
            config.inChannels, channels[0], kernel: config.convInKernel, padding: (config.convInKernel - 1) / 2)
        timeProj = Timesteps(channels: channels[0], flipSinToCos: config.flipSinToCos, downscaleFreqShift: Float(config.freqShift))
        timeEmbedding = try TimestepEmbedding(
            w["time_embedding"], inChannels: channels[0], timeEmbedDim: timeEmbedDim, activation: activation)
        if config.additionEmbedType == "text_time", let timeDim = config.additionTimeEmbedDim,
           let inputDim = config.projectionClassEmbeddingsInputDim {
            addTimeProj = Timesteps(channels: timeDim, flipSinToCos: config.flipSinToCos, downscaleFreqShift: Float(config.freqShift))
            addEmbedding = try TimestepEmbedding(
                w["add_embedding"], inChannels: inputDim, timeEmbedDim: timeEmbedDim, activation: activation)
        } else {
            addTimeProj = nil
            addEmbedding = nil
        }
        let settings = DownBlock2D.Settings(
            tembChannels: timeEmbedDim, groups: layout.groups, epsilon: config.normEps, activation: activation,
            useLinearProjection: config.useLinearProjection)
        (downBlocks, midBlock, upBlocks) = try UNet2DConditionModel.blocks(w, config: config, layout: layout, settings: settings)
        convNormOut = try w["conv_norm_out"].groupNorm(groups: layout.groups, channels: channels[0], epsilon: config.normEps)
        convOut = try w["conv_out"].conv2d(
            channels[0], config.outChannels, kernel: config.convOutKernel, padding: (config.convOutKernel - 1) / 2)
    }

    /// The down, mid and up blocks, wired as diffusers' `__init__` does (the up blocks mirror the down blocks).
    private static func blocks(
        _ w: WeightScope, config: UNet2DConditionConfig, layout: UNet2DConditionConfig.Layout, settings: DownBlock2D.Settings
    ) throws -> ([DownBlock2D], UNetMidBlock2DCrossAttn, [UpBlock2D]) {
        let channels = config.blockOutChannels, n = channels.count
        func crossAttention(_ i: Int, _ type: String) -> (heads: Int, layers: Int, dim: Int)? {
            type.hasPrefix("CrossAttn") ? (layout.heads[i], layout.transformerLayersPerBlock[i], layout.crossAttentionDim[i]) : nil
        }
        let down = try (0..<n).map { i in
            try DownBlock2D(
                w["down_blocks"][i], inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: channels[i],
                layers: layout.layersPerBlock[i], crossAttention: crossAttention(i, config.downBlockTypes[i]),
                addDownsample: i < n - 1, downsamplePadding: config.downsamplePadding, settings: settings)
        }
        let mid = try UNetMidBlock2DCrossAttn(
            w["mid_block"], channels: channels[n - 1],
            crossAttention: (layout.heads[n - 1], layout.transformerLayersPerBlock[n - 1], layout.crossAttentionDim[n - 1]),
            outputScaleFactor: config.midBlockScaleFactor, settings: settings)
        let up = try (0..<n).map { i in
            let level = n - 1 - i  // the down level this up block mirrors
            return try UpBlock2D(
                w["up_blocks"][i], inChannels: channels[max(level - 1, 0)], prevOutputChannels: channels[min(level + 1, n - 1)],
                outChannels: channels[level], layers: layout.layersPerBlock[level] + 1,
                crossAttention: crossAttention(level, config.upBlockTypes[i]), addUpsample: i < n - 1, settings: settings)
        }
        return (down, mid, up)
    }

    /// Every cross-attention (`attn2`) of the UNet with its module name, in the order of diffusers'
    /// `unet.attn_processors` (down blocks, then up blocks, then the mid block): the order IP-Adapter
    /// files number them in.
    public var crossAttentionLayers: [(name: String, layer: CrossAttention)] {
        func layers(_ prefix: String, _ attentions: [Transformer2DModel]) -> [(name: String, layer: CrossAttention)] {
            attentions.enumerated().flatMap { a, transformer in
                transformer.transformerBlocks.enumerated().map { t, block in
                    ("\(prefix).attentions.\(a).transformer_blocks.\(t).attn2", block.attn2)
                }
            }
        }
        return downBlocks.enumerated().flatMap { layers("down_blocks.\($0)", $1.attentions) }
            + upBlocks.enumerated().flatMap { layers("up_blocks.\($0)", $1.attentions) }
            + layers("mid_block", midBlock.attentions)
    }
}
