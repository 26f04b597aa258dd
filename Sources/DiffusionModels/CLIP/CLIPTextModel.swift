// Follows transformers/models/clip/modeling_clip.py (CLIPTextModel, the text tower of CLIP).
import DiffusionCore

/// The CLIP text encoder of SD1.5's `text_encoder/` and SDXL's `text_encoder/`.
///
/// Weight keys are transformers': `embeddings.*`, `encoder.layers.<i>.*`, `final_layer_norm.*` (the hub
/// files prefix them with `text_model.`; `init(directory:)` accepts both).
public struct CLIPTextModel: Sendable {
    public let config: CLIPTextConfig
    let embeddings: CLIPTextEmbeddings
    let encoder: CLIPEncoder
    let finalLayerNorm: LayerNorm

    /// transformers' `BaseModelOutputWithPooling` with `output_hidden_states=True`.
    public struct Output: Sendable {
        /// `[batch, tokens, hidden]`: the last layer's output after `final_layer_norm`.
        public let lastHiddenState: Tensor
        /// `[batch, hidden]`: `lastHiddenState` at each sequence's end token.
        public let pooledOutput: Tensor
        /// The embeddings, then each layer's output, none normalized: `hiddenStates[hiddenStates.count - 2]`
        /// is transformers' `hidden_states[-2]`, the penultimate layer SDXL conditions on.
        public let hiddenStates: [Tensor]
    }

    /// Builds the model from `w`, the scope whose keys are `embeddings.*`, `encoder.*`, `final_layer_norm.*`.
    public init(config: CLIPTextConfig, weights w: WeightScope) throws {
        try config.validate()
        self.config = config
        embeddings = try CLIPTextEmbeddings(w["embeddings"], config: config)
        encoder = try CLIPEncoder(w["encoder"], config: config)
        finalLayerNorm = try w["final_layer_norm"].layerNorm(config.hiddenSize, epsilon: config.layerNormEps)
    }

    /// Encodes a batch of id sequences of one length (at most `max_position_embeddings`).
    /// - Throws: `CLIPInputError` for an empty batch, ragged or over-long sequences, or ids outside the vocabulary.
    public func callAsFunction(_ inputIds: [[Int32]]) throws -> Output {
        try validate(inputIds)
        let embedded = embeddings(inputIds)
        let layerOutputs = encoder(embedded, causal: true)
        let last = finalLayerNorm(layerOutputs.last ?? embedded)
        return Output(lastHiddenState: last, pooledOutput: pooled(last, inputIds), hiddenStates: [embedded] + layerOutputs)
    }

    /// The position of each sequence's end token, as transformers finds it: with the legacy
    /// `eos_token_id` 2 the first position of the largest id (the end token is the largest id of the
    /// vocabulary), otherwise the first position of `eos_token_id`, or 0 when there is none (argmax of
    /// an all-false mask).
    public func endTokenPositions(_ inputIds: [[Int32]]) -> [Int] {
        inputIds.map { ids in
            if config.eosTokenId == 2 {
                guard let largest = ids.max() else { return 0 }
                return ids.firstIndex(of: largest) ?? 0
            }
            return ids.firstIndex { Int($0) == config.eosTokenId } ?? 0
        }
    }

    private func pooled(_ hidden: Tensor, _ inputIds: [[Int32]]) -> Tensor {
        let (length, width) = (hidden.shape[1], hidden.shape[2])
        let output = Tensor(uninitializedShape: [inputIds.count, width])
        for (b, position) in endTokenPositions(inputIds).enumerated() {
            (output.storage.pointer + b * width)
                .initialize(from: hidden.storage.pointer + (b * length + position) * width, count: width)
        }
        return output
    }

    private func validate(_ inputIds: [[Int32]]) throws {
        guard let length = inputIds.first?.count, length > 0 else {
            throw CLIPInputError("the text encoder needs at least one non-empty sequence of ids")
        }
        guard length <= config.maxPositionEmbeddings else {
            throw CLIPInputError("\(length) ids exceed max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        for (b, ids) in inputIds.enumerated() {
            guard ids.count == length else {
                throw CLIPInputError("sequence \(b) has \(ids.count) ids; sequence 0 has \(length)")
            }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
                throw CLIPInputError("sequence \(b) holds id \(bad), outside the vocabulary of \(config.vocabSize)")
            }
        }
    }
}

/// Ids a text encoder cannot take; the message says which sequence and why.
public struct CLIPInputError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
