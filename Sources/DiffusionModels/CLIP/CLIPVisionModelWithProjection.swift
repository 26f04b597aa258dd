// Follows transformers/models/clip/modeling_clip.py (CLIPVisionEmbeddings, CLIPVisionTransformer,
// CLIPVisionModelWithProjection).
import DiffusionCore
import DiffusionFormats
import Foundation

/// The image encoder of IP-Adapters: a ViT whose projected class token (`image_embeds`) feeds the
/// base adapter and whose penultimate hidden states feed IP-Adapter Plus.
///
/// Input: `pixelValues` `[batch, image_size, image_size, 3]` (NHWC), already normalised with
/// `CLIPImagePreprocessing.pixelValues` (DiffusionFormats).
public struct CLIPVisionModelWithProjection: Sendable {
    public let config: CLIPVisionConfig
    let classEmbedding: Tensor
    let patchEmbedding: Conv2D
    let positionEmbedding: Tensor
    let preLayerNorm: LayerNorm
    let encoder: CLIPEncoder
    let postLayerNorm: LayerNorm
    let visualProjection: Linear

    public struct Output: Sendable {
        /// `[batch, projection_dim]`: the post-normed class token through `visual_projection`.
        public let imageEmbeds: Tensor
        /// `[batch, patches + 1, hidden]`: transformers' `hidden_states[-2]`.
        public let penultimateHiddenStates: Tensor
    }

    /// Loads a transformers `CLIPVisionModelWithProjection` folder (`config.json`, `model.safetensors` or
    /// another `WeightFile.transformers` name,
    /// keyed `vision_model.*` and `visual_projection.weight`); the `position_ids` buffer is ignored.
    public init(directory: URL) throws {
        let config = try CLIPVisionConfig.load(contentsOf: directory.appendingPathComponent("config.json"))
        let store = try WeightStore(
            contentsOf: WeightFile.transformers.locate(in: directory),
            ignored: { $0 == "vision_model.embeddings.position_ids" })
        try self.init(config: config, weights: store.root)
        try store.checkAllUsed()
    }

    public init(config: CLIPVisionConfig, weights w: WeightScope) throws {
        let vision = w["vision_model"], embeddings = vision["embeddings"], hidden = config.hiddenSize
        self.config = config
        classEmbedding = try embeddings.tensor("class_embedding", shape: [hidden])
        patchEmbedding = try embeddings["patch_embedding"].conv2d(
            config.numChannels, hidden, kernel: config.patchSize, stride: config.patchSize, bias: false)
        let positions = config.patchesPerSide * config.patchesPerSide + 1
        positionEmbedding = try embeddings["position_embedding"].tensor("weight", shape: [positions, hidden])
        preLayerNorm = try vision["pre_layrnorm"].layerNorm(hidden, epsilon: config.layerNormEps)
        encoder = try CLIPEncoder(vision["encoder"], config: config)
        postLayerNorm = try vision["post_layernorm"].layerNorm(hidden, epsilon: config.layerNormEps)
        visualProjection = try w["visual_projection"].linear(hidden, config.projectionDim, bias: false)
    }

    public func callAsFunction(_ pixelValues: Tensor) throws -> Output {
        let side = config.imageSize
        guard pixelValues.shape.count == 4, Array(pixelValues.shape.dropFirst()) == [side, side, config.numChannels] else {
            throw ModelInputError("image encoder input \(pixelValues.shape): expected [batch, \(side), \(side), \(config.numChannels)]")
        }
        let batch = pixelValues.shape[0], hidden = config.hiddenSize
        let patches = patchEmbedding(pixelValues).reshaped([batch, -1, hidden])
        let classTokens = Tensor.concatenate(Array(repeating: classEmbedding.reshaped([1, 1, hidden]), count: batch), axis: 0)
        var tokens = Tensor.concatenate([classTokens, patches], axis: 1)
        tokens.add(Tensor.concatenate(Array(repeating: positionEmbedding.reshaped([1, -1, hidden]), count: batch), axis: 0))
        let input = preLayerNorm(tokens)
        let outputs = encoder(input, causal: false)
        // hidden_states = (input, layer 1, ..., layer L): [-2] is layer L-1's output, or the input when L = 1.
        let penultimate = outputs.count >= 2 ? outputs[outputs.count - 2] : input
        let last = outputs.last ?? input
        let pooled = postLayerNorm(last.slice(axis: 1, 0..<1).reshaped([batch, hidden]))
        return Output(imageEmbeds: visualProjection(pooled), penultimateHiddenStates: penultimate)
    }
}
