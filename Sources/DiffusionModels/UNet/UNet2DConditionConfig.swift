// Follows the config of diffusers' models/unets/unet_2d_condition.py (UNet2DConditionModel.__init__).
import DiffusionCore
import Foundation

/// The `unet/config.json` of a diffusers model folder, with diffusers' defaults for missing keys.
///
/// Options the runtime does not implement are decoded too, so that `validate()` can reject a
/// checkpoint that needs them instead of silently computing something else.
public struct UNet2DConditionConfig: Codable, Sendable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    public var centerInputSample = false
    public var flipSinToCos = true
    public var freqShift = 0
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var onlyCrossAttention: PerBlock<Bool> = .all(false)
    public var blockOutChannels = [320, 640, 1280, 1280]
    public var layersPerBlock: PerBlock<Int> = .all(2)
    public var downsamplePadding = 1
    public var midBlockScaleFactor: Float = 1
    public var actFn = "silu"
    public var normNumGroups: Int? = 32
    public var normEps: Float = 1e-5
    public var crossAttentionDim: PerBlock<Int> = .all(1280)
    public var transformerLayersPerBlock: PerBlock<Int> = .all(1)
    /// diffusers' naming quirk: for SD-style configs this is the number of heads per block.
    public var attentionHeadDim: PerBlock<Int> = .all(8)
    public var numAttentionHeads: PerBlock<Int>?
    public var useLinearProjection = false
    public var upcastAttention = false
    public var additionEmbedType: String?
    public var additionTimeEmbedDim: Int?
    public var projectionClassEmbeddingsInputDim: Int?
    public var convInKernel = 3
    public var convOutKernel = 3

    // Options accepted only at their default value (see `unsupported`).
    public var dualCrossAttention = false
    public var classEmbedType: String?
    public var numClassEmbeds: Int?
    public var encoderHidDim: Int?
    public var encoderHidDimType: String?
    public var resnetTimeScaleShift = "default"
    public var resnetSkipTimeAct = false
    public var resnetOutScaleFactor: Float = 1
    public var timeEmbeddingType = "positional"
    public var timeEmbeddingDim: Int?
    public var timeEmbeddingActFn: String?
    public var timestepPostAct: String?
    public var timeCondProjDim: Int?
    public var attentionType = "default"
    public var classEmbeddingsConcat = false
    public var midBlockOnlyCrossAttention: Bool?
    public var crossAttentionNorm: String?
    public var reverseTransformerLayersPerBlock: [[Int]]?

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", centerInputSample = "center_input_sample"
        case flipSinToCos = "flip_sin_to_cos", freqShift = "freq_shift", downBlockTypes = "down_block_types"
        case midBlockType = "mid_block_type", upBlockTypes = "up_block_types"
        case onlyCrossAttention = "only_cross_attention", blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block", downsamplePadding = "downsample_padding"
        case midBlockScaleFactor = "mid_block_scale_factor", actFn = "act_fn", normNumGroups = "norm_num_groups"
        case normEps = "norm_eps", crossAttentionDim = "cross_attention_dim"
        case transformerLayersPerBlock = "transformer_layers_per_block", attentionHeadDim = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads", useLinearProjection = "use_linear_projection"
        case upcastAttention = "upcast_attention", additionEmbedType = "addition_embed_type"
        case additionTimeEmbedDim = "addition_time_embed_dim"
        case projectionClassEmbeddingsInputDim = "projection_class_embeddings_input_dim"
        case convInKernel = "conv_in_kernel", convOutKernel = "conv_out_kernel"
        case dualCrossAttention = "dual_cross_attention", classEmbedType = "class_embed_type"
        case numClassEmbeds = "num_class_embeds", encoderHidDim = "encoder_hid_dim"
        case encoderHidDimType = "encoder_hid_dim_type", resnetTimeScaleShift = "resnet_time_scale_shift"
        case resnetSkipTimeAct = "resnet_skip_time_act", resnetOutScaleFactor = "resnet_out_scale_factor"
        case timeEmbeddingType = "time_embedding_type", timeEmbeddingDim = "time_embedding_dim"
        case timeEmbeddingActFn = "time_embedding_act_fn", timestepPostAct = "timestep_post_act"
        case timeCondProjDim = "time_cond_proj_dim", attentionType = "attention_type"
        case classEmbeddingsConcat = "class_embeddings_concat"
        case midBlockOnlyCrossAttention = "mid_block_only_cross_attention"
        case crossAttentionNorm = "cross_attention_norm"
        case reverseTransformerLayersPerBlock = "reverse_transformer_layers_per_block"
    }

    /// diffusers' defaults (the SD1.5 UNet's architecture with a 1280-wide cross-attention).
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        func readOptional<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
            value = try c.decodeIfPresent(T.self, forKey: key) ?? (c.contains(key) ? nil : value)
        }
        try read(.inChannels, &inChannels); try read(.outChannels, &outChannels)
        try read(.centerInputSample, &centerInputSample); try read(.flipSinToCos, &flipSinToCos)
        try read(.freqShift, &freqShift); try read(.downBlockTypes, &downBlockTypes)
        try readOptional(.midBlockType, &midBlockType); try read(.upBlockTypes, &upBlockTypes)
        try read(.onlyCrossAttention, &onlyCrossAttention); try read(.blockOutChannels, &blockOutChannels)
        try read(.layersPerBlock, &layersPerBlock); try read(.downsamplePadding, &downsamplePadding)
        try read(.midBlockScaleFactor, &midBlockScaleFactor); try read(.actFn, &actFn)
        try readOptional(.normNumGroups, &normNumGroups); try read(.normEps, &normEps)
        try read(.crossAttentionDim, &crossAttentionDim)
        try read(.transformerLayersPerBlock, &transformerLayersPerBlock)
        try read(.attentionHeadDim, &attentionHeadDim); try readOptional(.numAttentionHeads, &numAttentionHeads)
        try read(.useLinearProjection, &useLinearProjection); try read(.upcastAttention, &upcastAttention)
        try readOptional(.additionEmbedType, &additionEmbedType)
        try readOptional(.additionTimeEmbedDim, &additionTimeEmbedDim)
        try readOptional(.projectionClassEmbeddingsInputDim, &projectionClassEmbeddingsInputDim)
        try read(.convInKernel, &convInKernel); try read(.convOutKernel, &convOutKernel)
        try read(.dualCrossAttention, &dualCrossAttention); try readOptional(.classEmbedType, &classEmbedType)
        try readOptional(.numClassEmbeds, &numClassEmbeds); try readOptional(.encoderHidDim, &encoderHidDim)
        try readOptional(.encoderHidDimType, &encoderHidDimType)
        try read(.resnetTimeScaleShift, &resnetTimeScaleShift); try read(.resnetSkipTimeAct, &resnetSkipTimeAct)
        try read(.resnetOutScaleFactor, &resnetOutScaleFactor); try read(.timeEmbeddingType, &timeEmbeddingType)
        try readOptional(.timeEmbeddingDim, &timeEmbeddingDim)
        try readOptional(.timeEmbeddingActFn, &timeEmbeddingActFn)
        try readOptional(.timestepPostAct, &timestepPostAct); try readOptional(.timeCondProjDim, &timeCondProjDim)
        try read(.attentionType, &attentionType); try read(.classEmbeddingsConcat, &classEmbeddingsConcat)
        try readOptional(.midBlockOnlyCrossAttention, &midBlockOnlyCrossAttention)
        try readOptional(.crossAttentionNorm, &crossAttentionNorm)
        try readOptional(.reverseTransformerLayersPerBlock, &reverseTransformerLayersPerBlock)
    }

    /// Reads and validates `url` (a diffusers `unet/config.json`).
    public static func load(contentsOf url: URL) throws -> UNet2DConditionConfig {
        let config: UNet2DConditionConfig
        do {
            config = try JSONDecoder().decode(UNet2DConditionConfig.self, from: ConfigCheck.read(url, what: "UNet config"))
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        } catch {
            throw ModelLoadingError("\(url.path): cannot read the UNet config: \(error)")
        }
        do {
            try config.validate()
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        }
        return config
    }
}
