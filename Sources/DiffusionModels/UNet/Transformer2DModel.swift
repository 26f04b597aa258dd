// Follows diffusers' models/transformers/transformer_2d.py (continuous input, norm_type "layer_norm").
import DiffusionCore

/// GroupNorm, `proj_in`, the transformer blocks over the pixels as tokens, `proj_out`, plus the input.
///
/// `proj_in`/`proj_out` are 1x1 convolutions (`use_linear_projection: false`) or linears (`true`);
/// on NHWC both are the same product over channels, only the stored weight shape differs.
public struct Transformer2DModel: Sendable {
    let norm: GroupNorm
    let projIn: Linear
    public let transformerBlocks: [BasicTransformerBlock]
    let projOut: Linear

    public init(
        _ w: WeightScope, channels: Int, heads: Int, layers: Int, crossAttentionDim: Int, groups: Int,
        useLinearProjection: Bool
    ) throws {
        norm = try w["norm"].groupNorm(groups: groups, channels: channels, epsilon: 1e-6)
        projIn = try Transformer2DModel.projection(w["proj_in"], channels, linear: useLinearProjection)
        transformerBlocks = try (0..<layers).map {
            try BasicTransformerBlock(
                w["transformer_blocks"][$0], dim: channels, heads: heads, headDim: channels / heads,
                crossAttentionDim: crossAttentionDim)
        }
        projOut = try Transformer2DModel.projection(w["proj_out"], channels, linear: useLinearProjection)
    }

    /// A linear, or a 1x1 convolution's `[out, in, 1, 1]` weight read as a linear.
    private static func projection(_ w: WeightScope, _ channels: Int, linear: Bool) throws -> Linear {
        if linear { return try w.linear(channels, channels) }
        let weight = try w.weights("weight", shape: [channels, channels, 1, 1]).reshaped([channels, channels])
        return Linear(weight: weight, bias: try w.tensor("bias", shape: [channels]))
    }

    /// `x`: `[batch, h, w, channels]`.
    func callAsFunction(_ x: Tensor, conditioning: UNetConditioning) throws -> Tensor {
        let (batch, channels) = (x.shape[0], x.shape[3])
        var h = projIn(norm(x)).reshaped([batch, -1, channels])
        for block in transformerBlocks {
            h = try block(h, conditioning: conditioning)
        }
        var out = projOut(h).reshaped(x.shape)
        out.add(x)
        return out
    }
}
