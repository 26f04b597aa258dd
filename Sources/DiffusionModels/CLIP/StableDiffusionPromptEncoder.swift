// Follows diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py (StableDiffusionPipeline.encode_prompt).
import DiffusionCore
import Foundation

/// SD1.5's text conditioning: the last hidden state (after the final layer norm) of `text_encoder`.
public struct StableDiffusionPromptEncoder: PromptEncoder {
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel

    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel) {
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
    }

    /// Loads `tokenizer/` and `text_encoder/` of a diffusers pipeline folder, with the text-encoder
    /// weights of `loras` merged in.
    public init(modelDirectory: URL, loras: LoRASet = LoRASet([])) throws {
        self.init(
            tokenizer: try CLIPTokenizer(directory: modelDirectory.appendingPathComponent("tokenizer")),
            textEncoder: try CLIPTextModel(
                directory: modelDirectory.appendingPathComponent("text_encoder"), patches: loras.patches(for: .textEncoder)))
    }

    /// The prompt and, with guidance, the negative prompt (empty when absent) as one batch of their
    /// chunks: the rows are independent, so this equals diffusers' (or A1111's) separate calls.
    public func encode(
        prompt: String, negativePrompt: String?, classifierFreeGuidance: Bool, syntax: PromptSyntax
    ) throws -> PromptEmbeddings {
        let texts = classifierFreeGuidance ? [prompt, negativePrompt ?? ""] : [prompt]
        let chunks = try PromptChunks.uniform(texts, syntax: syntax, tokenizers: [tokenizer])[0]
        let hidden = try textEncoder(chunks.flatMap(\.ids)).lastHiddenState
        let embeds = chunks.enumerated().map { text, chunks in chunks.embeddings(from: hidden, firstRow: text * chunks.count) }
        return PromptEmbeddings(promptEmbeds: embeds[0], negativePromptEmbeds: classifierFreeGuidance ? embeds[1] : nil)
    }
}
