// Follows transformers/models/clip/modeling_clip.py (CLIPMLP).
import DiffusionCore

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
