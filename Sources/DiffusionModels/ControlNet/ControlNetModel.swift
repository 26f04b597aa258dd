// Follows diffusers' models/controlnets/controlnet.py (ControlNetModel).
import DiffusionCore
import Foundation

/// A ControlNet: a trainable copy of a UNet's encoder that reads the control image and returns
/// residuals for the UNet's skip connections and mid block (through 1x1 "zero" convolutions).
///
/// NHWC throughout: the control image is `[batch, 8h, 8w, 3]` in [0, 1], RGB.
public struct ControlNetModel: Sendable {
    public let config: ControlNetConfig
    let convIn: Conv2D
    let time: UNetTimeConditioning
    let conditioningEmbedding: ControlNetConditioningEmbedding
    let encoder: UNetEncoderBlocks
    let controlnetDownBlocks: [Conv2D]
    let controlnetMidBlock: Conv2D

    /// Loads `config.json` and the weights (`WeightFile.diffusers`) from a ControlNet folder.
    public init(folder: URL) throws {
        let config = try ControlNetConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        let store = try WeightStore(contentsOf: WeightFile.diffusers.locate(in: folder))
        try self.init(config: config, weights: store)
        try store.checkAllUsed()
    }

    /// Builds the model from `weights`; the caller checks afterwards that every weight was used.
    public init(config: ControlNetConfig, weights: WeightStore) throws {
        let unet = config.unet, layout = try unet.layout()
        let w = weights.root, channels = unet.blockOutChannels
        self.config = config
        convIn = try w["conv_in"].conv2d(unet.inChannels, channels[0], kernel: 3, padding: 1)
        time = try UNetTimeConditioning(w, config: unet, activation: layout.activation)
        conditioningEmbedding = try ControlNetConditioningEmbedding(
            w["controlnet_cond_embedding"], conditioningChannels: config.conditioningChannels,
            channels: config.conditioningEmbeddingOutChannels, embeddingChannels: channels[0])
        encoder = try UNetEncoderBlocks(w, config: unet, layout: layout)
        // One zero convolution per skip connection, with that skip's channel count.
        let skipChannels = [channels[0]] + channels.indices.flatMap { i in
            Array(repeating: channels[i], count: layout.layersPerBlock[i] + (i < channels.count - 1 ? 1 : 0))
        }
        controlnetDownBlocks = try skipChannels.enumerated().map { i, c in
            try w["controlnet_down_blocks"][i].conv2d(c, c, kernel: 1)
        }
        controlnetMidBlock = try w["controlnet_mid_block"].conv2d(channels.last!, channels.last!, kernel: 1)
    }

    /// The factor between the control image and the latents (8 for every released ControlNet).
    public var imageScale: Int { conditioningEmbedding.downscale }

    /// The residuals for a UNet, scaled by `conditioningScale`.
    /// - Parameters:
    ///   - sample: the (scaled) latents `[batch, h, w, 4]`, as the UNet gets them.
    ///   - controlImage: `[batch, imageScale * h, imageScale * w, 3]` in [0, 1].
    ///   - addedConditions: SDXL's pooled text embeds and time ids (nil for SD1.5).
    public func callAsFunction(
        _ sample: Tensor, timesteps: [Float], encoderHiddenStates: Tensor, controlImage: Tensor,
        conditioningScale: Float, addedConditions: SDXLAddedConditions? = nil
    ) throws -> ControlNetResiduals {
        try checkInputs(sample, controlImage: controlImage, encoderHiddenStates: encoderHiddenStates)
        let batch = sample.shape[0]
        guard timesteps.count == 1 || timesteps.count == batch else {
            throw ModelInputError("\(timesteps.count) timesteps for a batch of \(batch)")
        }
        let temb = try time(timesteps, batch: batch, addedConditions: addedConditions)
        let image = config.channelOrder == "bgr" ? controlImage.reversingChannels() : controlImage
        var h = convIn(sample)
        h.add(conditioningEmbedding(image))
        let conditioning = UNetConditioning(encoderHiddenStates: encoderHiddenStates)
        let (mid, skips) = try encoder(h, temb: temb, conditioning: conditioning)
        let down = zip(controlnetDownBlocks, skips).map { conv, skip in conv(skip) * conditioningScale }
        return ControlNetResiduals(down: down, mid: controlnetMidBlock(mid) * conditioningScale)
    }

    private func checkInputs(_ sample: Tensor, controlImage: Tensor, encoderHiddenStates: Tensor) throws {
        guard sample.rank == 4, sample.shape[3] == config.unet.inChannels else {
            throw ModelInputError("ControlNet sample \(sample.shape): expected [batch, h, w, \(config.unet.inChannels)]")
        }
        let (batch, h, w) = (sample.shape[0], sample.shape[1], sample.shape[2])
        let expected = [batch, imageScale * h, imageScale * w, config.conditioningChannels]
        guard controlImage.shape == expected else {
            throw ModelInputError("ControlNet control image \(controlImage.shape): expected \(expected)")
        }
        guard encoderHiddenStates.rank == 3, encoderHiddenStates.shape[0] == batch else {
            throw ModelInputError("ControlNet encoder hidden states \(encoderHiddenStates.shape) for a batch of \(batch)")
        }
    }
}

extension ControlNetResiduals {
    /// diffusers' MultiControlNetModel: the residuals of several ControlNets, added element by element.
    public static func sum(_ parts: [ControlNetResiduals]) -> ControlNetResiduals? {
        guard var total = parts.first else { return nil }
        for part in parts.dropFirst() {
            total = ControlNetResiduals(
                down: zip(total.down, part.down).map { $0 + $1 }, mid: total.mid + part.mid)
        }
        return total
    }
}

extension Tensor {
    /// The last axis reversed (RGB <-> BGR).
    func reversingChannels() -> Tensor {
        let c = shape[rank - 1]
        return Tensor.concatenate((0..<c).reversed().map { slice(axis: rank - 1, $0..<$0 + 1) }, axis: rank - 1)
    }
}

extension ControlNetModel {
    /// Throws, naming `folder` and the dimension, unless this ControlNet's residuals and inputs fit
    /// `unet`: the same block channels and skip connections, the same cross-attention width, and
    /// the same added (SDXL) embedding.
    public func checkFits(_ unet: UNet2DConditionModel, folder: URL) throws {
        let mine = config.unet, theirs = unet.config
        func mismatch(_ field: String, _ a: Any, _ b: Any) -> ModelLoadingError {
            ModelLoadingError(
                "\(folder.appendingPathComponent("config.json").path): \(field) is \(a), but the model's UNet has \(b)")
        }
        guard mine.blockOutChannels == theirs.blockOutChannels else {
            throw mismatch("block_out_channels", mine.blockOutChannels, theirs.blockOutChannels)
        }
        let (ours, unets) = (try mine.layout(), try theirs.layout())
        guard ours.layersPerBlock == unets.layersPerBlock else {
            throw mismatch("layers_per_block (skip connections)", ours.layersPerBlock, unets.layersPerBlock)
        }
        guard ours.crossAttentionDim == unets.crossAttentionDim else {
            throw mismatch("cross_attention_dim", ours.crossAttentionDim, unets.crossAttentionDim)
        }
        guard mine.additionEmbedType == theirs.additionEmbedType,
              mine.projectionClassEmbeddingsInputDim == theirs.projectionClassEmbeddingsInputDim else {
            throw mismatch("the added embedding (addition_embed_type, projection_class_embeddings_input_dim)",
                           "\(mine.additionEmbedType ?? "none"), \(mine.projectionClassEmbeddingsInputDim.map(String.init) ?? "none")",
                           "\(theirs.additionEmbedType ?? "none"), \(theirs.projectionClassEmbeddingsInputDim.map(String.init) ?? "none")")
        }
    }
}
