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
    /// `time_proj`, `time_embedding` and SDXL's `add_time_proj` / `add_embedding`.
    let time: UNetTimeConditioning
    /// `down_blocks` and `mid_block`, shared with ControlNetModel.
    let encoder: UNetEncoderBlocks
    public let upBlocks: [UpBlock2D]
    let convNormOut: GroupNorm
    let convOut: Conv2D
    let activation: Activation

    /// Each cross-attention's index in `crossAttentionLayers`, by identity.
    let crossAttentionSlots: [ObjectIdentifier: Int]

    public var downBlocks: [DownBlock2D] { encoder.down }
    public var midBlock: UNetMidBlock2DCrossAttn { encoder.mid }

    /// Loads `config.json` and the weights (`WeightFile.diffusers`: `diffusion_pytorch_model.safetensors`,
    /// its `.bin` or an `fp16` variant) from a `unet/` folder, with `patches` (LoRA) merged into the
    /// weights they change: a separate model holding its own merged weights; any model already built
    /// from the folder is untouched.
    public init(folder: URL, patches: WeightPatches = .none) throws {
        let config = try UNet2DConditionConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        let store = try WeightStore(contentsOf: WeightFile.diffusers.locate(in: folder), patches: patches)
        try self.init(config: config, weights: store)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: folder.path)
    }

    /// Builds the model from `weights`; the caller checks afterwards that every weight was used.
    public init(config: UNet2DConditionConfig, weights: WeightStore) throws {
        let layout = try config.layout()
        let w = weights.root
        let channels = config.blockOutChannels
        self.config = config
        activation = layout.activation
        convIn = try w["conv_in"].conv2d(
            config.inChannels, channels[0], kernel: config.convInKernel, padding: (config.convInKernel - 1) / 2)
        time = try UNetTimeConditioning(w, config: config, activation: activation)
        encoder = try UNetEncoderBlocks(w, config: config, layout: layout)
        upBlocks = try UNet2DConditionModel.upBlocks(w, config: config, layout: layout, settings: encoder.settings)
        convNormOut = try w["conv_norm_out"].groupNorm(groups: layout.groups, channels: channels[0], epsilon: config.normEps)
        convOut = try w["conv_out"].conv2d(
            channels[0], config.outChannels, kernel: config.convOutKernel, padding: (config.convOutKernel - 1) / 2)
        crossAttentionSlots = Dictionary(uniqueKeysWithValues: Self.crossAttentionLayers(encoder, upBlocks).enumerated().map {
            (ObjectIdentifier($1.layer), $0)
        })
    }

    /// The up blocks, wired as diffusers' `__init__` does: each mirrors a down level, with one more resnet.
    private static func upBlocks(
        _ w: WeightScope, config: UNet2DConditionConfig, layout: UNet2DConditionConfig.Layout, settings: DownBlock2D.Settings
    ) throws -> [UpBlock2D] {
        let channels = config.blockOutChannels, n = channels.count
        return try (0..<n).map { i in
            let level = n - 1 - i  // the down level this up block mirrors
            return try UpBlock2D(
                w["up_blocks"][i], inChannels: channels[max(level - 1, 0)], prevOutputChannels: channels[min(level + 1, n - 1)],
                outChannels: channels[level], layers: layout.layersPerBlock[level] + 1,
                crossAttention: config.upBlockTypes[i].hasPrefix("CrossAttn") ? layout.crossAttention(level) : nil,
                addUpsample: i < n - 1, settings: settings)
        }
    }

    /// Every cross-attention (`attn2`) of the UNet with its module name, in the order of diffusers'
    /// `unet.attn_processors` (down blocks, then up blocks, then the mid block): the order IP-Adapter
    /// files number them in.
    public var crossAttentionLayers: [(name: String, layer: CrossAttention)] { Self.crossAttentionLayers(encoder, upBlocks) }

    private static func crossAttentionLayers(
        _ encoder: UNetEncoderBlocks, _ upBlocks: [UpBlock2D]
    ) -> [(name: String, layer: CrossAttention)] {
        func layers(_ prefix: String, _ attentions: [Transformer2DModel]) -> [(name: String, layer: CrossAttention)] {
            attentions.enumerated().flatMap { a, transformer in
                transformer.transformerBlocks.enumerated().map { t, block in
                    ("\(prefix).attentions.\(a).transformer_blocks.\(t).attn2", block.attn2)
                }
            }
        }
        return encoder.down.enumerated().flatMap { layers("down_blocks.\($0)", $1.attentions) }
            + upBlocks.enumerated().flatMap { layers("up_blocks.\($0)", $1.attentions) }
            + layers("mid_block", encoder.mid.attentions)
    }
}
