// Follows transformers/models/clip/modeling_clip.py (CLIPEncoderLayer).
import DiffusionCore

/// A pre-LN transformer block: `x + attn(ln1(x))`, then `x + mlp(ln2(x))`.
struct CLIPEncoderLayer: Sendable {
    let layerNorm1, layerNorm2: LayerNorm
    let selfAttn: CLIPAttention
    let mlp: CLIPMLP

    init(_ w: WeightScope, config: some CLIPTransformerSizes) throws {
        layerNorm1 = try w["layer_norm1"].layerNorm(config.hiddenSize, epsilon: config.layerNormEps)
        selfAttn = try CLIPAttention(w["self_attn"], config: config)
        layerNorm2 = try w["layer_norm2"].layerNorm(config.hiddenSize, epsilon: config.layerNormEps)
        mlp = try CLIPMLP(w["mlp"], config: config)
    }

    func callAsFunction(_ x: Tensor, causal: Bool) -> Tensor {
        var hidden = x
        hidden.add(selfAttn(layerNorm1(hidden), causal: causal))
        hidden.add(mlp(layerNorm2(hidden)))
        return hidden
    }
}
