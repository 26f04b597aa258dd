// Follows transformers/models/clip/modeling_clip.py (CLIPEncoder).
import DiffusionCore

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
