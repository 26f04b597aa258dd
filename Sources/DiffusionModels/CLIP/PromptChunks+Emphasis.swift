// Follows AUTOMATIC1111 stable-diffusion-webui modules/sd_emphasis.py (EmphasisOriginal) and the
// concatenation of sd_hijack_clip.py's forward.
import DiffusionCore

extension PromptChunks {
    /// The prompt's conditioning `[1, 77 * count, D]` from `hidden`, the encoder's output for a batch
    /// whose rows `firstRow ..< firstRow + count` are these chunks: each chunk weighted, then the
    /// chunks concatenated on the token axis.
    public func embeddings(from hidden: Tensor, firstRow: Int) -> Tensor {
        let parts = weights.enumerated().map { chunk, weights in
            Self.emphasized(hidden.batchItem(firstRow + chunk), weights: weights)
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 1)
    }

    /// A1111's original emphasis on one chunk `[1, tokens, D]`: each token's vector times its weight,
    /// then everything rescaled so the chunk's mean is what it was. Unweighted chunks are returned as
    /// they are, so a prompt without emphasis gives exactly the unweighted conditioning.
    static func emphasized(_ z: Tensor, weights: [Float]) -> Tensor {
        guard weights.contains(where: { $0 != 1 }) else { return z }
        let width = z.shape[2]
        var result = Tensor(uninitializedShape: z.shape)
        result.withUnsafeMutableBufferPointer { out in
            for (token, weight) in weights.enumerated() {
                for index in (token * width)..<((token + 1) * width) { out[index] = z.storage.pointer[index] * weight }
            }
        }
        let factor = Float(mean(z)) / Float(mean(result))
        result.withUnsafeMutableBufferPointer { out in
            for index in out.indices { out[index] *= factor }
        }
        return result
    }

    /// The mean of every element, summed in double precision.
    private static func mean(_ tensor: Tensor) -> Double {
        tensor.withUnsafeBufferPointer { values in values.reduce(0.0) { $0 + Double($1) } / Double(values.count) }
    }
}
