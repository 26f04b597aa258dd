// Follows transformers/models/clip/modeling_clip.py (CLIPTextModelWithProjection).
import DiffusionCore

/// The CLIP text encoder with its projection: SDXL's `text_encoder_2/`, whose projected pooled output
/// is SDXL's `pooled_prompt_embeds`. Keys: `text_model.*` (a `CLIPTextModel`) and `text_projection.weight`.
public struct CLIPTextModelWithProjection: Sendable {
    public let textModel: CLIPTextModel
    let textProjection: Linear

    /// transformers' `CLIPTextModelOutput`.
    public struct Output: Sendable {
        /// `[batch, projection_dim]`: the pooled output through `text_projection`.
        public let textEmbeds: Tensor
        /// `[batch, tokens, hidden]`, after `final_layer_norm`.
        public let lastHiddenState: Tensor
        /// The embeddings, then each layer's output (see `CLIPTextModel.Output.hiddenStates`).
        public let hiddenStates: [Tensor]
    }

    public var config: CLIPTextConfig { textModel.config }

    /// Builds the model from `w`, the scope holding `text_model.*` and `text_projection.*`.
    public init(config: CLIPTextConfig, weights w: WeightScope) throws {
        guard let projectionDim = config.projectionDim else {
            throw ModelLoadingError("projection_dim is null; CLIPTextModelWithProjection needs it")
        }
        textModel = try CLIPTextModel(config: config, weights: w["text_model"])
        textProjection = try w["text_projection"].linear(config.hiddenSize, projectionDim, bias: false)
    }

    /// Encodes a batch of id sequences of one length.
    /// - Throws: `CLIPInputError` for ids the text model cannot take.
    public func callAsFunction(_ inputIds: [[Int32]]) throws -> Output {
        let output = try textModel(inputIds)
        return Output(
            textEmbeds: textProjection(output.pooledOutput), lastHiddenState: output.lastHiddenState,
            hiddenStates: output.hiddenStates)
    }
}
