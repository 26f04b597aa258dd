// Follows transformers/models/clip/configuration_clip.py (CLIPVisionConfig).
import DiffusionCore
import Foundation

/// The `config.json` of an IP-Adapter's `image_encoder/` folder, with transformers' defaults
/// (openai/clip-vit-base-patch32's vision tower) for missing keys.
public struct CLIPVisionConfig: Codable, Sendable, Equatable, CLIPTransformerSizes {
    public var hiddenSize = 768
    public var intermediateSize = 3072
    public var projectionDim = 512
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var numChannels = 3
    public var imageSize = 224
    public var patchSize = 32
    public var hiddenAct = "quick_gelu"
    public var layerNormEps: Float = 1e-5

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", projectionDim = "projection_dim"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numChannels = "num_channels", imageSize = "image_size", patchSize = "patch_size"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.hiddenSize, &hiddenSize); try read(.intermediateSize, &intermediateSize)
        try read(.projectionDim, &projectionDim); try read(.numHiddenLayers, &numHiddenLayers)
        try read(.numAttentionHeads, &numAttentionHeads); try read(.numChannels, &numChannels)
        try read(.imageSize, &imageSize); try read(.patchSize, &patchSize)
        try read(.hiddenAct, &hiddenAct); try read(.layerNormEps, &layerNormEps)
    }

    public var activation: Activation {
        get throws {
            guard let activation = Activation(name: hiddenAct) else {
                throw ModelLoadingError("hidden_act \"\(hiddenAct)\" is not an activation the runtime implements")
            }
            return activation
        }
    }

    /// Patches per side of the (square) input image.
    public var patchesPerSide: Int { imageSize / patchSize }

    /// Reads and checks `url`; errors name the file and the field.
    public static func load(contentsOf url: URL) throws -> CLIPVisionConfig {
        let config: CLIPVisionConfig
        do {
            config = try JSONDecoder().decode(CLIPVisionConfig.self, from: Data(contentsOf: url))
        } catch {
            throw ModelLoadingError("\(url.path): cannot read the image encoder config: \(error)")
        }
        let sizes = [("hidden_size", config.hiddenSize), ("intermediate_size", config.intermediateSize),
                     ("projection_dim", config.projectionDim), ("num_hidden_layers", config.numHiddenLayers),
                     ("num_attention_heads", config.numAttentionHeads), ("num_channels", config.numChannels),
                     ("image_size", config.imageSize), ("patch_size", config.patchSize)]
        for (name, value) in sizes where value < 1 {
            throw ModelLoadingError("\(url.path): \(name) is \(value); it must be positive")
        }
        guard config.hiddenSize % config.numAttentionHeads == 0, config.imageSize % config.patchSize == 0 else {
            throw ModelLoadingError(
                "\(url.path): hidden_size must split into num_attention_heads and image_size into patch_size")
        }
        do { _ = try config.activation } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        }
        return config
    }
}
