// Follows transformers/models/clip/modeling_clip.py (CLIPAttention, CLIPMLP, CLIPEncoderLayer, CLIPEncoder).
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

/// fc1, the activation, fc2.
struct CLIPMLP: Sendable {
    let fc1, fc2: Linear
    let activation: Activation

    init(_ w: WeightScope, config: some CLIPTransformerSizes) throws {
        fc1 = try w["fc1"].linear(config.hiddenSize, config.intermediateSize)
        fc2 = try w["fc2"].linear(config.intermediateSize, config.hiddenSize)
        activation = try config.activation
    }

    func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).applying(activation)) }
}

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

/// The stack of `num_hidden_layers` encoder layers.
struct CLIPEncoder: Sendable {
    let layers: [CLIPEncoderLayer]

    init(_ w: WeightScope, config: some CLIPTransformerSizes) throws {
        layers = try (0..<config.numHiddenLayers).map { try CLIPEncoderLayer(w["layers"][$0], config: config) }
    }

    /// The output of every layer, in order (transformers' `hidden_states[1...]`).
    func callAsFunction(_ x: Tensor, causal: Bool) -> [Tensor] {
        var outputs: [Tensor] = []
        outputs.reserveCapacity(layers.count)
        var hidden = x
        for layer in layers {
            hidden = layer(hidden, causal: causal)
            outputs.append(hidden)
        }
        return outputs
    }
}
