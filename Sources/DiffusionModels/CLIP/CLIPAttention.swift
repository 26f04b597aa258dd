// Follows transformers/models/clip/modeling_clip.py (CLIPAttention).
import DiffusionCore

/// Multi-head self-attention with separate q/k/v projections; the text tower masks it causally.
struct CLIPAttention: Sendable {
    let qProj, kProj, vProj, outProj: Linear
    let heads: Int

    init(_ w: WeightScope, config: some CLIPTransformerSizes) throws {
        let width = config.hiddenSize
        qProj = try w["q_proj"].linear(width, width)
        kProj = try w["k_proj"].linear(width, width)
        vProj = try w["v_proj"].linear(width, width)
        outProj = try w["out_proj"].linear(width, width)
        heads = config.numAttentionHeads
    }

    /// `x`: `[batch, tokens, hidden]`. The scale is `head_dim ** -0.5`, Attention's default.
    func callAsFunction(_ x: Tensor, causal: Bool) -> Tensor {
        let attended = Attention.scaledDotProduct(query: qProj(x), key: kProj(x), value: vProj(x), heads: heads, causal: causal)
        return outProj(attended)
    }
}
