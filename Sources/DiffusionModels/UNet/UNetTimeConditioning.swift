// Follows the time and added embeddings of diffusers' UNet2DConditionModel / ControlNetModel forward.
import DiffusionCore

/// The embedding every resnet of a UNet or ControlNet is conditioned on: the sinusoidal timestep
/// embedding through `time_embedding`, plus SDXL's `text_time` added embedding (the pooled text
/// embeds and the time ids' sinusoidal embedding through `add_embedding`).
struct UNetTimeConditioning: Sendable {
    let timeProj: Timesteps
    let timeEmbedding: TimestepEmbedding
    let addTimeProj: Timesteps?
    let addEmbedding: TimestepEmbedding?
    /// The width of SDXL's pooled text embeds (`projection_class_embeddings_input_dim` less the time ids' part).
    let pooledDimension: Int

    /// The embedding's width: four times the first block's channels.
    var dimension: Int { timeEmbedding.linear2.outFeatures }

    init(_ w: WeightScope, config: UNet2DConditionConfig, activation: Activation) throws {
        let channels = config.blockOutChannels[0]
        timeProj = Timesteps(channels: channels, flipSinToCos: config.flipSinToCos, downscaleFreqShift: Float(config.freqShift))
        timeEmbedding = try TimestepEmbedding(
            w["time_embedding"], inChannels: channels, timeEmbedDim: 4 * channels, activation: activation)
        if config.additionEmbedType == "text_time", let timeDim = config.additionTimeEmbedDim,
           let inputDim = config.projectionClassEmbeddingsInputDim {
            addTimeProj = Timesteps(channels: timeDim, flipSinToCos: config.flipSinToCos, downscaleFreqShift: Float(config.freqShift))
            addEmbedding = try TimestepEmbedding(
                w["add_embedding"], inChannels: inputDim, timeEmbedDim: 4 * channels, activation: activation)
            pooledDimension = inputDim - 6 * timeDim
        } else {
            addTimeProj = nil
            addEmbedding = nil
            pooledDimension = 0
        }
    }

    /// `[batch, dimension]` for one timestep (shared by the batch) or one per sample.
    func callAsFunction(_ timesteps: [Float], batch: Int, addedConditions: SDXLAddedConditions?) throws -> Tensor {
        var emb = timeEmbedding(timeProj(timesteps.count == 1 ? Array(repeating: timesteps[0], count: batch) : timesteps))
        guard let addTimeProj, let addEmbedding else { return emb }
        guard let added = addedConditions else {
            throw ModelInputError("this model (addition_embed_type 'text_time') needs SDXL's text_embeds and time_ids")
        }
        guard added.textEmbeds.shape == [batch, pooledDimension], added.timeIds.shape == [batch, 6] else {
            throw ModelInputError(
                "SDXL text_embeds \(added.textEmbeds.shape) / time_ids \(added.timeIds.shape): expected [\(batch), \(pooledDimension)] / [\(batch), 6]")
        }
        let timeEmbeds = addTimeProj(added.timeIds.scalars).reshaped([batch, 6 * addTimeProj.channels])
        emb.add(addEmbedding(Tensor.concatenate([added.textEmbeds, timeEmbeds], axis: 1)))
        return emb
    }
}
