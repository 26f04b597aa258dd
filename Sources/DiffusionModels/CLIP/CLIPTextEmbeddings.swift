// Follows transformers/models/clip/modeling_clip.py (CLIPTextEmbeddings).
import DiffusionCore

/// Token embedding plus learned absolute position embedding.
struct CLIPTextEmbeddings: Sendable {
    /// `[vocab_size, hidden_size]`.
    let tokenEmbedding: Tensor
    /// `[max_position_embeddings, hidden_size]`.
    let positionEmbedding: Tensor

    init(_ w: WeightScope, config: CLIPTextConfig) throws {
        tokenEmbedding = try w["token_embedding"].tensor("weight", shape: [config.vocabSize, config.hiddenSize])
        positionEmbedding = try w["position_embedding"].tensor(
            "weight", shape: [config.maxPositionEmbeddings, config.hiddenSize])
    }

    /// `[batch, tokens, hidden]` for ids the caller has checked against the vocabulary and positions.
    func callAsFunction(_ inputIds: [[Int32]]) -> Tensor {
        let width = tokenEmbedding.shape[1]
        let length = inputIds.first?.count ?? 0
        let output = Tensor(uninitializedShape: [inputIds.count, length, width])
        let tokens = tokenEmbedding.storage.pointer, positions = positionEmbedding.storage.pointer
        for (b, ids) in inputIds.enumerated() {
            for (t, id) in ids.enumerated() {
                let row = output.storage.pointer + (b * length + t) * width
                let token = tokens + Int(id) * width, position = positions + t * width
                for j in 0..<width { row[j] = token[j] + position[j] }
            }
        }
        return output
    }
}
