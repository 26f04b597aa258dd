// Follows diffusers' loaders/single_file_utils.py (create_unet_diffusers_config_from_ldm,
// create_vae_diffusers_config_from_ldm) and the SD1.5 / SDXL base configs those produce.
import DiffusionFormats
import Foundation

/// The configs of a single file's components: what the tensors' names and shapes say (channels,
/// levels, layers, block types, attention widths), the rest from the family's standard config
/// (heads: 8 for SD1.5, 64-wide for SDXL; sample sizes; scaling factors; activations).
extension SingleFileCheckpoint {
    public func unetConfig() throws -> UNet2DConditionConfig {
        let w = try weights(.unet)
        var config = try Self.encoderConfig(w, family: family)
        let levels = config.blockOutChannels.count
        config.outChannels = try Self.shape(w, "conv_out.weight", url: url)[0]
        config.upBlockTypes = (0..<levels).map { w.has("up_blocks.\($0).attentions.") ? "CrossAttnUpBlock2D" : "UpBlock2D" }
        if family == .stableDiffusionXL, let projection = w.info("add_embedding.linear_1.weight")?.shape, projection.count == 2 {
            config.additionEmbedType = "text_time"
            config.projectionClassEmbeddingsInputDim = projection[1]
            // text_embeds (the OpenCLIP projection's width) and six Fourier-embedded time ids.
            let pooled = try weights(.textEncoder2).info("text_projection.weight")?.shape.first ?? 1280
            config.additionTimeEmbedDim = (projection[1] - pooled) / 6
        }
        return config
    }

    public func vaeConfig() throws -> AutoencoderKLConfig {
        let w = try weights(.vae)
        var config = AutoencoderKLConfig()
        let levels = w.count("encoder.down_blocks.")
        config.blockOutChannels = try (0..<levels).map { try Self.shape(w, "encoder.down_blocks.\($0).resnets.0.conv1.weight", url: url)[0] }
        config.downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: levels)
        config.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: levels)
        config.layersPerBlock = w.count("encoder.down_blocks.0.resnets.")
        config.inChannels = try Self.shape(w, "encoder.conv_in.weight", url: url)[1]
        config.outChannels = try Self.shape(w, "decoder.conv_out.weight", url: url)[0]
        config.latentChannels = try Self.shape(w, "decoder.conv_in.weight", url: url)[1]
        config.useQuantConv = w.info("quant_conv.weight") != nil
        config.usePostQuantConv = w.info("post_quant_conv.weight") != nil
        config.sampleSize = .all(family == .stableDiffusionXL ? 1024 : 512)
        config.scalingFactor = family == .stableDiffusionXL ? 0.13025 : 0.18215
        return config
    }

    /// CLIP ViT-L (`text_encoder`: quick_gelu) or OpenCLIP ViT-bigG (`text_encoder_2`: gelu, projected);
    /// 64-wide heads; `eos_token_id` 2, as the hub configs of both say.
    public func textEncoderConfig(_ component: Component) throws -> CLIPTextConfig {
        let w = try weights(component)
        let embedding = try Self.shape(w, "text_model.embeddings.token_embedding.weight", url: url)
        var config = CLIPTextConfig()
        (config.vocabSize, config.hiddenSize) = (embedding[0], embedding[1])
        config.maxPositionEmbeddings = try Self.shape(w, "text_model.embeddings.position_embedding.weight", url: url)[0]
        config.numHiddenLayers = w.count("text_model.encoder.layers.")
        config.intermediateSize = try Self.shape(w, "text_model.encoder.layers.0.mlp.fc1.weight", url: url)[0]
        config.numAttentionHeads = max(1, config.hiddenSize / 64)
        config.hiddenAct = component == .textEncoder2 ? "gelu" : "quick_gelu"
        config.projectionDim = w.info("text_projection.weight")?.shape.first ?? config.hiddenSize
        config.eosTokenId = 2
        return config
    }

    /// The options a UNet and its ControlNet share: the encoder half's levels, channels and attention.
    static func encoderConfig(_ w: RemappedTensorFile, family: Family) throws -> UNet2DConditionConfig {
        var config = UNet2DConditionConfig()
        let levels = w.count("down_blocks.")
        config.inChannels = try shape(w, "conv_in.weight", url: w.url)[1]
        config.blockOutChannels = try (0..<levels).map { try shape(w, "down_blocks.\($0).resnets.0.conv1.weight", url: w.url)[0] }
        config.layersPerBlock = .all(w.count("down_blocks.0.resnets."))
        config.downBlockTypes = (0..<levels).map { w.has("down_blocks.\($0).attentions.") ? "CrossAttnDownBlock2D" : "DownBlock2D" }
        // A level's transformer depth is its attention's block count (0 in the distilled SDXL ControlNets);
        // the last level's also sizes the mid block, so a last level without attention takes the mid
        // block's; other levels without attention do not use theirs (1, diffusers' default).
        let depths = (0..<levels).map { level in
            config.downBlockTypes[level] == "CrossAttnDownBlock2D"
                ? w.count("down_blocks.\(level).attentions.0.transformer_blocks.")
                : level == levels - 1 ? w.count("mid_block.attentions.0.transformer_blocks.") : 1
        }
        config.transformerLayersPerBlock = Set(depths).count == 1 ? .all(depths[0]) : .each(depths)
        if let key = w.names.first(where: { $0.hasSuffix("attn2.to_k.weight") }), let shape = w.info(key)?.shape, shape.count == 2 {
            config.crossAttentionDim = .all(shape[1])
        }
        if let key = w.names.first(where: { $0.hasSuffix(".proj_in.weight") }) {
            config.useLinearProjection = w.info(key)?.shape.count == 2
        }
        config.attentionHeadDim = family == .stableDiffusionXL ? .each(config.blockOutChannels.map { max(1, $0 / 64) }) : .all(8)
        return config
    }

    static func shape(_ w: RemappedTensorFile, _ name: String, url: URL) throws -> [Int] {
        guard let shape = w.info(name)?.shape, !shape.isEmpty else {
            throw ModelLoadingError("\(url.path): missing weight '\(name)', which the config is read from")
        }
        return shape
    }
}

extension RemappedTensorFile {
    /// True when a name starts with `prefix`.
    func has(_ prefix: String) -> Bool { names.contains { $0.hasPrefix(prefix) } }

    /// How many distinct indices follow `prefix` (`down_blocks.` -> the number of down blocks).
    func count(_ prefix: String) -> Int {
        Set(names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix) else { return nil }
            return Int(name.dropFirst(prefix.count).prefix { $0 != "." })
        }).count
    }
}
