// Follows diffusers' models/attention.py (BasicTransformerBlock with norm_type "layer_norm", FeedForward, GEGLU).
import DiffusionCore

/// Self-attention, cross-attention and a GEGLU feed-forward, each after a LayerNorm and added
/// back to its input.
public struct BasicTransformerBlock: Sendable {
    let norm1: LayerNorm
    public let attn1: CrossAttention
    let norm2: LayerNorm
    public let attn2: CrossAttention
    let norm3: LayerNorm
    /// `ff.net.0.proj`: to twice the inner width, gated by GEGLU.
    let ffProj: Linear
    /// `ff.net.2`.
    let ffOut: Linear

    public init(_ w: WeightScope, dim: Int, heads: Int, headDim: Int, crossAttentionDim: Int) throws {
        norm1 = try w["norm1"].layerNorm(dim, epsilon: 1e-5)
        attn1 = try CrossAttention(w["attn1"], queryDim: dim, contextDim: dim, heads: heads, headDim: headDim, bias: false)
        norm2 = try w["norm2"].layerNorm(dim, epsilon: 1e-5)
        attn2 = try CrossAttention(
            w["attn2"], queryDim: dim, contextDim: crossAttentionDim, heads: heads, headDim: headDim, bias: false)
        norm3 = try w["norm3"].layerNorm(dim, epsilon: 1e-5)
        ffProj = try w["ff"]["net"][0]["proj"].linear(dim, 8 * dim)
        ffOut = try w["ff"]["net"][2].linear(4 * dim, dim)
    }

    /// `x`: `[batch, tokens, dim]`; the conditioning's encoder hidden states are `[batch, n, crossAttentionDim]`.
    func callAsFunction(_ x: Tensor, conditioning: UNetConditioning) throws -> Tensor {
        var h = x
        h.add(try attn1(norm1(h)))
        h.add(try attn2(norm2(h), context: conditioning.encoderHiddenStates, ipAdapters: try conditioning.ipAdapters(for: attn2)))
        h.add(ffOut(ffProj(norm3(h)).geglu()))
        return h
    }
}
