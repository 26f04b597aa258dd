// Follows diffusers' models/unets/unet_2d_blocks.py (CrossAttnDownBlock2D and DownBlock2D).
import DiffusionCore

/// One level of the UNet's encoder: `resnets`, each followed by a Transformer2DModel in
/// `attentions` for a CrossAttnDownBlock2D (none for a DownBlock2D), then an optional stride-2
/// `downsamplers.0`. Every resnet (or attention) output and the downsampled output are skip
/// connections for the up blocks.
public struct DownBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]
    let downsampler: Downsample2D?

    /// The settings shared by a UNet's blocks.
    struct Settings {
        var tembChannels: Int
        var groups: Int
        var epsilon: Float
        var activation: Activation
        var useLinearProjection: Bool
    }

    init(
        _ w: WeightScope, inChannels: Int, outChannels: Int, layers: Int, crossAttention: (heads: Int, layers: Int, dim: Int)?,
        addDownsample: Bool, downsamplePadding: Int, settings s: Settings
    ) throws {
        resnets = try ResnetBlock2D.stack(
            w, inChannels: inChannels, outChannels: outChannels, layers: layers, tembChannels: s.tembChannels,
            groups: s.groups, epsilon: s.epsilon, activation: s.activation)
        attentions = try crossAttention.map { cross in
            try (0..<layers).map {
                try Transformer2DModel(
                    w["attentions"][$0], channels: outChannels, heads: cross.heads, layers: cross.layers,
                    crossAttentionDim: cross.dim, groups: s.groups, useLinearProjection: s.useLinearProjection)
            }
        } ?? []
        downsampler = addDownsample
            ? try Downsample2D(w["downsamplers"][0], channels: outChannels, padding: downsamplePadding) : nil
    }

    /// Returns the block's output and its skip connections, in order.
    func callAsFunction(_ x: Tensor, temb: Tensor, conditioning: UNetConditioning) throws -> (Tensor, [Tensor]) {
        var h = x
        var skips: [Tensor] = []
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, temb: temb)
            if !attentions.isEmpty {
                h = try attentions[i](h, conditioning: conditioning)
            }
            skips.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            skips.append(h)
        }
        return (h, skips)
    }
}

/// What every cross-attention of the UNet attends to: the text tokens and the IP-Adapter images' tokens.
struct UNetConditioning {
    var encoderHiddenStates: Tensor
    var ipAdapterTokens: [IPAdapterTokens] = []
    /// Each cross-attention's index in `crossAttentionLayers` (the UNet's `crossAttentionSlots`),
    /// where it finds its projections in every `IPAdapterTokens.layers`; empty in a ControlNet.
    var slots: [ObjectIdentifier: Int] = [:]

    /// The IP-Adapter images' projections for `layer`, with their tokens.
    func ipAdapters(for layer: CrossAttention) throws -> [(projection: IPAdapterProjection, tokens: IPAdapterTokens)] {
        guard !ipAdapterTokens.isEmpty else { return [] }
        guard let slot = slots[ObjectIdentifier(layer)] else {
            throw ModelInputError("IP-Adapter tokens given to a model whose cross-attentions take no adapter")
        }
        return try ipAdapterTokens.map { tokens in
            guard tokens.layers.count == slots.count else {
                throw ModelInputError(
                    "an IP-Adapter with \(tokens.layers.count) cross-attention projections given to a UNet with \(slots.count)")
            }
            return (tokens.layers[slot], tokens)
        }
    }
}
