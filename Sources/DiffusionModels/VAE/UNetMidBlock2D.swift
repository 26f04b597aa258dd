// Follows diffusers' models/unets/unet_2d_blocks.py (UNetMidBlock2D, as the VAE builds it).
import DiffusionCore

/// `resnets.0`, then the single-head spatial self-attention `attentions.0` (GroupNorm, q/k/v with
/// biases over the pixels, `to_out.0`, plus the input) and `resnets.1`. Without a time embedding.
public struct UNetMidBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    let attentionNorm: GroupNorm?
    let attention: CrossAttention?

    init(_ w: WeightScope, channels: Int, groups: Int, activation: Activation, addAttention: Bool) throws {
        resnets = try (0..<2).map {
            try ResnetBlock2D(
                w["resnets"][$0], inChannels: channels, outChannels: channels, tembChannels: nil, groups: groups,
                epsilon: 1e-6, activation: activation)
        }
        // The VAE's attention_head_dim is the channel count: one head.
        attentionNorm = addAttention
            ? try w["attentions"][0]["group_norm"].groupNorm(groups: groups, channels: channels, epsilon: 1e-6) : nil
        attention = addAttention
            ? try CrossAttention(w["attentions"][0], queryDim: channels, contextDim: channels, heads: 1, headDim: channels, bias: true)
            : nil
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = resnets[0](x, temb: nil)
        if let attention, let attentionNorm {
            let (batch, channels) = (h.shape[0], h.shape[3])
            var attended = try attention(attentionNorm(h).reshaped([batch, -1, channels])).reshaped(h.shape)
            attended.add(h)
            h = attended
        }
        return resnets[1](h, temb: nil)
    }
}
