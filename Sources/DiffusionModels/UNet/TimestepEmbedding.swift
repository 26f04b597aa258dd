// Follows diffusers' models/embeddings.py (TimestepEmbedding).
import DiffusionCore

/// `linear_1`, the activation, `linear_2`: the MLP over the sinusoidal timestep embedding
/// (and, in SDXL, over the pooled text embeds with the time ids' embedding).
public struct TimestepEmbedding: Sendable {
    let linear1: Linear
    let linear2: Linear
    let activation: Activation

    public init(_ w: WeightScope, inChannels: Int, timeEmbedDim: Int, activation: Activation) throws {
        linear1 = try w["linear_1"].linear(inChannels, timeEmbedDim)
        linear2 = try w["linear_2"].linear(timeEmbedDim, timeEmbedDim)
        self.activation = activation
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear2(linear1(x).applying(activation))
    }
}
