// Mirrors the argument checks of diffusers' models/unets/unet_2d_condition.py, plus the options this runtime rejects.
import DiffusionCore

extension UNet2DConditionConfig {
    /// The resolved per-block layout: what every block of the model is built from.
    struct Layout {
        var layersPerBlock: [Int]
        var crossAttentionDim: [Int]
        var transformerLayersPerBlock: [Int]
        /// Heads per block (diffusers' `num_attention_heads or attention_head_dim`).
        var heads: [Int]
        var activation: Activation
        var groups: Int
    }

    /// Throws, naming the option, when the config asks for something the runtime does not implement
    /// or describes an inconsistent architecture.
    public func validate() throws {
        _ = try layout()
    }

    func layout() throws -> Layout {
        try rejectUnsupportedOptions()
        let n = blockOutChannels.count
        guard n > 0 else { throw ModelLoadingError("config field 'block_out_channels' must list positive channel counts") }
        try ConfigCheck.blockCount(n)
        try validateSizes()
        guard downBlockTypes.count == n, upBlockTypes.count == n else {
            throw ModelLoadingError("config fields 'down_block_types' and 'up_block_types' must list one block per 'block_out_channels' entry (\(n))")
        }
        for type in downBlockTypes where !["CrossAttnDownBlock2D", "DownBlock2D"].contains(type) {
            throw ModelLoadingError("config field 'down_block_types': block type '\(type)' is not supported")
        }
        for type in upBlockTypes where !["CrossAttnUpBlock2D", "UpBlock2D"].contains(type) {
            throw ModelLoadingError("config field 'up_block_types': block type '\(type)' is not supported")
        }
        guard let groups = normNumGroups, groups > 0 else {
            throw ModelLoadingError("config field 'norm_num_groups' must be a positive number (null is not supported)")
        }
        for channels in blockOutChannels where channels % groups != 0 {
            throw ModelLoadingError("config field 'norm_num_groups' (\(groups)) does not divide block channels \(channels)")
        }
        guard let activation = Activation(name: actFn) else {
            throw ModelLoadingError("config field 'act_fn': activation '\(actFn)' is not supported")
        }
        for (field, kernel) in [("conv_in_kernel", convInKernel), ("conv_out_kernel", convOutKernel)]
        where !(1...31).contains(kernel) || kernel % 2 == 0 {
            throw ModelLoadingError("config field '\(field)' must be an odd kernel size up to 31, got \(kernel)")
        }
        let layout = Layout(
            layersPerBlock: try layersPerBlock.values(count: n, field: "layers_per_block"),
            crossAttentionDim: try crossAttentionDim.values(count: n, field: "cross_attention_dim"),
            transformerLayersPerBlock: try transformerLayersPerBlock.values(count: n, field: "transformer_layers_per_block"),
            heads: try attentionHeadDim.values(count: n, field: "attention_head_dim"),
            activation: activation, groups: groups)
        for layers in layout.layersPerBlock { try ConfigCheck.depth("layers_per_block", layers) }
        // 0 is allowed, as in diffusers: a Transformer2DModel of norm and projections only (the distilled
        // SDXL ControlNets "mid" and "small", Docs/MODELS.md).
        for layers in layout.transformerLayersPerBlock {
            try ConfigCheck.range("transformer_layers_per_block", layers, 0...ConfigCheck.maximumDepth)
        }
        for dim in layout.crossAttentionDim { try ConfigCheck.size("cross_attention_dim", dim) }
        for (i, heads) in layout.heads.enumerated() where heads <= 0 || blockOutChannels[i] % heads != 0 {
            throw ModelLoadingError("config field 'attention_head_dim': \(heads) heads do not split block \(i)'s \(blockOutChannels[i]) channels")
        }
        try validateAdditionEmbedding()
        return layout
    }

    /// The single-valued sizes and factors: counts that index or allocate, an epsilon that
    /// divides, and the two padding values Stable Diffusion's downsamplers implement.
    private func validateSizes() throws {
        try ConfigCheck.size("in_channels", inChannels)
        try ConfigCheck.size("out_channels", outChannels)
        for channels in blockOutChannels { try ConfigCheck.size("block_out_channels", channels) }
        try ConfigCheck.epsilon("norm_eps", normEps)
        try ConfigCheck.finite("mid_block_scale_factor", midBlockScaleFactor)
        try ConfigCheck.range("downsample_padding", downsamplePadding, 0...1)
    }

    /// SDXL's `text_time` embedding needs its two sizes.
    private func validateAdditionEmbedding() throws {
        guard let type = additionEmbedType else { return }
        guard type == "text_time" else {
            throw ModelLoadingError("config field 'addition_embed_type': '\(type)' is not supported (only 'text_time')")
        }
        guard let timeDim = additionTimeEmbedDim, (1...ConfigCheck.maximumSize).contains(timeDim),
              let inputDim = projectionClassEmbeddingsInputDim, inputDim > 6 * timeDim, inputDim <= ConfigCheck.maximumSize
        else {
            throw ModelLoadingError(
                "config fields 'addition_time_embed_dim' and 'projection_class_embeddings_input_dim' are required by 'text_time' (input dim > 6 x time dim)")
        }
    }

    private func rejectUnsupportedOptions() throws {
        func reject(_ field: String, _ value: Any) -> ModelLoadingError {
            ModelLoadingError("config field '\(field)' = \(value) is not supported")
        }
        if numAttentionHeads != nil {
            // diffusers itself refuses it: the name is ambiguous with attention_head_dim.
            throw reject("num_attention_heads", String(describing: numAttentionHeads!))
        }
        if try onlyCrossAttention.values(count: blockOutChannels.count, field: "only_cross_attention").contains(true) {
            throw reject("only_cross_attention", true)
        }
        if midBlockType != "UNetMidBlock2DCrossAttn" { throw reject("mid_block_type", midBlockType ?? "null") }
        if dualCrossAttention { throw reject("dual_cross_attention", true) }
        if let classEmbedType { throw reject("class_embed_type", classEmbedType) }
        if let numClassEmbeds { throw reject("num_class_embeds", numClassEmbeds) }
        if let encoderHidDim { throw reject("encoder_hid_dim", encoderHidDim) }
        if let encoderHidDimType { throw reject("encoder_hid_dim_type", encoderHidDimType) }
        if resnetTimeScaleShift != "default" { throw reject("resnet_time_scale_shift", resnetTimeScaleShift) }
        if resnetSkipTimeAct { throw reject("resnet_skip_time_act", true) }
        if resnetOutScaleFactor != 1 { throw reject("resnet_out_scale_factor", resnetOutScaleFactor) }
        if timeEmbeddingType != "positional" { throw reject("time_embedding_type", timeEmbeddingType) }
        if let timeEmbeddingDim { throw reject("time_embedding_dim", timeEmbeddingDim) }
        if let timeEmbeddingActFn { throw reject("time_embedding_act_fn", timeEmbeddingActFn) }
        if let timestepPostAct { throw reject("timestep_post_act", timestepPostAct) }
        if let timeCondProjDim { throw reject("time_cond_proj_dim", timeCondProjDim) }
        if attentionType != "default" { throw reject("attention_type", attentionType) }
        if classEmbeddingsConcat { throw reject("class_embeddings_concat", true) }
        if midBlockOnlyCrossAttention == true { throw reject("mid_block_only_cross_attention", true) }
        if let crossAttentionNorm { throw reject("cross_attention_norm", crossAttentionNorm) }
        if let reverseTransformerLayersPerBlock {
            throw reject("reverse_transformer_layers_per_block", reverseTransformerLayersPerBlock)
        }
    }
}
