// Follows diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py (StableDiffusionXLPipeline.encode_prompt).
import DiffusionCore
import Foundation

/// SDXL's text conditioning: the penultimate hidden states (before any final layer norm) of
/// `text_encoder` and `text_encoder_2` concatenated on the feature axis (768 + 1280 = 2048 for SDXL
/// base), and `text_encoder_2`'s projected pooled output as the pooled embedding.
public struct StableDiffusionXLPromptEncoder: PromptEncoder {
    public let tokenizer: CLIPTokenizer
    public let tokenizer2: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let textEncoder2: CLIPTextModelWithProjection
    /// `force_zeros_for_empty_prompt` of model_index.json: without a negative prompt, the negative
    /// conditioning is zeros instead of the encoding of "".
    public let forceZerosForEmptyPrompt: Bool

    public init(
        tokenizer: CLIPTokenizer, tokenizer2: CLIPTokenizer, textEncoder: CLIPTextModel,
        textEncoder2: CLIPTextModelWithProjection, forceZerosForEmptyPrompt: Bool
    ) {
        self.tokenizer = tokenizer
        self.tokenizer2 = tokenizer2
        self.textEncoder = textEncoder
        self.textEncoder2 = textEncoder2
        self.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt
    }

    /// Loads `tokenizer/`, `tokenizer_2/`, `text_encoder/` and `text_encoder_2/` of a diffusers pipeline
    /// folder; `forceZerosForEmptyPrompt` is the flag of its model_index.json (true for SDXL base). The
    /// text-encoder weights of `loras` are merged in.
    public init(modelDirectory: URL, forceZerosForEmptyPrompt: Bool, loras: LoRASet = LoRASet([])) throws {
        func folder(_ name: String) -> URL { modelDirectory.appendingPathComponent(name) }
        self.init(
            tokenizer: try CLIPTokenizer(directory: folder("tokenizer")),
            tokenizer2: try CLIPTokenizer(directory: folder("tokenizer_2")),
            textEncoder: try CLIPTextModel(directory: folder("text_encoder"), patches: loras.patches(for: .textEncoder)),
            textEncoder2: try CLIPTextModelWithProjection(
                directory: folder("text_encoder_2"), patches: loras.patches(for: .textEncoder2)),
            forceZerosForEmptyPrompt: forceZerosForEmptyPrompt)
    }

    /// The prompt and, when guidance needs one that is not zeros, the negative prompt (empty when
    /// absent) as one batch of chunks per encoder; SDXL's `prompt_2` and `negative_prompt_2` default to
    /// them. The pooled embedding is that of each prompt's first chunk, as A1111 takes it.
    public func encode(
        prompt: String, negativePrompt: String?, classifierFreeGuidance: Bool, syntax: PromptSyntax
    ) throws -> PromptEmbeddings {
        let zeroNegative = negativePrompt == nil && forceZerosForEmptyPrompt
        let texts = classifierFreeGuidance && !zeroNegative ? [prompt, negativePrompt ?? ""] : [prompt]
        let chunks = try PromptChunks.uniform(texts, syntax: syntax, tokenizers: [tokenizer, tokenizer2])
        let first = try textEncoder(chunks[0].flatMap(\.ids))
        let second = try textEncoder2(chunks[1].flatMap(\.ids))
        let count = chunks[0][0].count
        let embeds = texts.indices.map { text in
            Tensor.concatenate(
                [chunks[0][text].embeddings(from: penultimate(first.hiddenStates), firstRow: text * count),
                 chunks[1][text].embeddings(from: penultimate(second.hiddenStates), firstRow: text * count)],
                axis: 2)
        }
        let pooled = texts.indices.map { second.textEmbeds.batchItem($0 * count) }
        guard classifierFreeGuidance else {
            return PromptEmbeddings(promptEmbeds: embeds[0], pooledPromptEmbeds: pooled[0])
        }
        return PromptEmbeddings(
            promptEmbeds: embeds[0],
            negativePromptEmbeds: zeroNegative ? Tensor(shape: embeds[0].shape) : embeds[1],
            pooledPromptEmbeds: pooled[0],
            negativePooledPromptEmbeds: zeroNegative ? Tensor(shape: pooled[0].shape) : pooled[1])
    }

    /// transformers' `hidden_states[-2]`: the output of the second-to-last layer.
    private func penultimate(_ hiddenStates: [Tensor]) -> Tensor { hiddenStates[hiddenStates.count - 2] }
}
