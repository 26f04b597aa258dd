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
            config = try JSONDecoder().decode(CLIPVisionConfig.self, from: ConfigCheck.read(url, what: "image encoder config"))
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        } catch {
            throw ModelLoadingError("\(url.path): cannot read the image encoder config: \(error)")
        }
        do { try config.validate() } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        }
        return config
    }

    /// Checks that the sizes describe a model that can be built.
    func validate() throws {
        let sizes = [("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                     ("projection_dim", projectionDim), ("num_attention_heads", numAttentionHeads),
                     ("num_channels", numChannels), ("image_size", imageSize), ("patch_size", patchSize)]
        for (name, value) in sizes { try ConfigCheck.size(name, value) }
        try ConfigCheck.depth("num_hidden_layers", numHiddenLayers)
        guard hiddenSize % numAttentionHeads == 0, imageSize % patchSize == 0 else {
            throw ModelLoadingError("hidden_size must split into num_attention_heads and image_size into patch_size")
        }
        try ConfigCheck.epsilon("layer_norm_eps", layerNormEps)
        _ = try activation
    }
}
