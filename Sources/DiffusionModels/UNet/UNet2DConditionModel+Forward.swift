// Follows UNet2DConditionModel.forward in diffusers' models/unets/unet_2d_condition.py.
import DiffusionCore

/// SDXL's added conditions (`added_cond_kwargs`): the pooled text embeds `[batch, pooled]` and
/// the time ids `[batch, 6]` (original size, crop top-left, target size).
public struct SDXLAddedConditions: Sendable {
    public let textEmbeds: Tensor
    public let timeIds: Tensor

    public init(textEmbeds: Tensor, timeIds: Tensor) {
        self.textEmbeds = textEmbeds
        self.timeIds = timeIds
    }
}

/// ControlNet outputs added into the UNet (diffusers' `down_block_additional_residuals` and
/// `mid_block_additional_residual`), NHWC: one tensor per skip connection, in the order the down
/// blocks produce them (conv_in's output first), and one for the mid block's output.
public struct ControlNetResiduals: Sendable {
    public let down: [Tensor]
    public let mid: Tensor

    public init(down: [Tensor], mid: Tensor) {
        self.down = down
        self.mid = mid
    }
}

extension UNet2DConditionModel {
    /// Predicts the noise (or v) for `sample` at `timesteps`.
    /// - Parameters:
    ///   - sample: the latents `[batch, h, w, in_channels]`.
    ///   - timesteps: one timestep for the whole batch, or one per sample.
    ///   - encoderHiddenStates: the text tokens `[batch, tokens, cross_attention_dim]`.
    ///   - addedConditions: required by SDXL (`addition_embed_type: text_time`), nil otherwise.
    ///   - controlNetResiduals: the summed outputs of the active ControlNets, if any.
    ///   - ipAdapterTokens: one entry per IP-Adapter image: its tokens, scale and projections.
    /// - Returns: `[batch, h, w, out_channels]`.
    public func callAsFunction(
        _ sample: Tensor, timesteps: [Float], encoderHiddenStates: Tensor, addedConditions: SDXLAddedConditions? = nil,
        controlNetResiduals: ControlNetResiduals? = nil, ipAdapterTokens: [IPAdapterTokens] = []
    ) throws -> Tensor {
        try checkInputs(sample, timesteps: timesteps, encoderHiddenStates: encoderHiddenStates)
        let temb = try time(timesteps, batch: sample.shape[0], addedConditions: addedConditions)
        let conditioning = UNetConditioning(
            encoderHiddenStates: encoderHiddenStates, ipAdapterTokens: ipAdapterTokens, slots: crossAttentionSlots)

        var (h, skips) = try encoder(
            convIn(config.centerInputSample ? sample.map { 2 * $0 - 1 } : sample), temb: temb, conditioning: conditioning)
        if let controlNetResiduals {
            try add(controlNetResiduals.down, to: &skips)
            guard controlNetResiduals.mid.shape == h.shape else {
                throw ModelInputError(
                    "ControlNet mid-block residual \(controlNetResiduals.mid.shape) does not match the mid block's output \(h.shape)")
            }
            h.add(controlNetResiduals.mid)
        }
        for block in upBlocks {
            let blockSkips = Array(skips.suffix(block.skipCount))
            skips.removeLast(block.skipCount)
            let next = skips.last.map { (height: $0.shape[1], width: $0.shape[2]) }
            h = try block(h, skips: blockSkips, temb: temb, conditioning: conditioning, upsampleSize: next)
        }
        return convOut(convNormOut(h, activation: activation))
    }

    /// Adds the ControlNet down residuals to the skip connections, one for one.
    private func add(_ residuals: [Tensor], to skips: inout [Tensor]) throws {
        guard residuals.count == skips.count else {
            throw ModelInputError("\(residuals.count) ControlNet down residuals for \(skips.count) UNet skip connections")
        }
        for i in skips.indices {
            guard residuals[i].shape == skips[i].shape else {
                throw ModelInputError("ControlNet down residual \(i) \(residuals[i].shape) does not match skip \(skips[i].shape)")
            }
            skips[i].add(residuals[i])
        }
    }

    private func checkInputs(_ sample: Tensor, timesteps: [Float], encoderHiddenStates: Tensor) throws {
        guard sample.rank == 4, sample.shape[3] == config.inChannels, sample.shape[0] > 0 else {
            throw ModelInputError("UNet sample \(sample.shape): expected [batch, h, w, \(config.inChannels)]")
        }
        let batch = sample.shape[0]
        guard timesteps.count == 1 || timesteps.count == batch else {
            throw ModelInputError("\(timesteps.count) timesteps for a batch of \(batch)")
        }
        let width = encoderHiddenStates.shape.last ?? 0
        guard encoderHiddenStates.rank == 3, encoderHiddenStates.shape[0] == batch,
              crossAttentionLayers.allSatisfy({ $0.layer.toK.inFeatures == width })
        else {
            throw ModelInputError("UNet encoder hidden states \(encoderHiddenStates.shape): expected [\(batch), tokens, cross_attention_dim]")
        }
    }
}
