// Follows transformers/models/clip/configuration_clip.py (CLIPTextConfig).
import DiffusionCore
import Foundation

/// The `config.json` of a `text_encoder/` or `text_encoder_2/` folder, with transformers' defaults
/// (those of openai/clip-vit-base-patch32's text tower) for missing keys.
public struct CLIPTextConfig: Codable, Sendable, Equatable {
    public var vocabSize = 49408
    public var hiddenSize = 512
    public var intermediateSize = 2048
    /// The width of `text_projection`; only `CLIPTextModelWithProjection` uses it.
    public var projectionDim: Int? = 512
    public var numHiddenLayers = 12
    public var numAttentionHeads = 8
    public var maxPositionEmbeddings = 77
    public var hiddenAct = "quick_gelu"
    public var layerNormEps: Float = 1e-5
    /// Selects how the pooled output finds the end token: SD1.5 and SDXL checkpoints say 2, the
    /// value transformers wrote before it fixed the field, which means "the largest id".
    public var eosTokenId = 49407

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case projectionDim = "projection_dim", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", maxPositionEmbeddings = "max_position_embeddings"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps", eosTokenId = "eos_token_id"
    }

    /// transformers' defaults.
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.vocabSize, &vocabSize); try read(.hiddenSize, &hiddenSize)
        try read(.intermediateSize, &intermediateSize); try read(.numHiddenLayers, &numHiddenLayers)
        try read(.numAttentionHeads, &numAttentionHeads); try read(.maxPositionEmbeddings, &maxPositionEmbeddings)
        try read(.hiddenAct, &hiddenAct); try read(.layerNormEps, &layerNormEps); try read(.eosTokenId, &eosTokenId)
        // An explicit null removes the projection, as in transformers.
        projectionDim = c.contains(.projectionDim) ? try c.decodeIfPresent(Int.self, forKey: .projectionDim) : projectionDim
    }

    /// The activation of the MLPs.
    public var activation: Activation {
        get throws {
            guard let activation = Activation(name: hiddenAct) else {
                throw ModelLoadingError("hidden_act \"\(hiddenAct)\" is not an activation the runtime implements")
            }
            return activation
        }
    }

    /// Checks that the sizes describe a model that can be built.
    public func validate() throws {
        let sizes = [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                     ("num_attention_heads", numAttentionHeads), ("max_position_embeddings", maxPositionEmbeddings)]
        for (name, value) in sizes { try ConfigCheck.size(name, value) }
        try ConfigCheck.depth("num_hidden_layers", numHiddenLayers)
        guard hiddenSize % numAttentionHeads == 0 else {
            throw ModelLoadingError("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        try ConfigCheck.epsilon("layer_norm_eps", layerNormEps)
        if let projectionDim { try ConfigCheck.size("projection_dim", projectionDim) }
        _ = try activation
    }

    /// Reads and validates `url` (a transformers `config.json`); errors name the file.
    public static func load(contentsOf url: URL) throws -> CLIPTextConfig {
        do {
            let data = try ConfigCheck.read(url, what: "text encoder config")
            let config = try JSONDecoder().decode(CLIPTextConfig.self, from: data)
            try config.validate()
            return config
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        } catch let error as DecodingError {
            throw ModelLoadingError("\(url.path): \(Self.describe(error))")
        }
    }

    /// A decoding failure as "field: what is wrong".
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? context.debugDescription : "\(field): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "not valid JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))"
        @unknown default:
            return "\(error)"
        }
    }
}
