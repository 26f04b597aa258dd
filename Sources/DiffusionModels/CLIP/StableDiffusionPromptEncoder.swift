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

    /// Loads `tokenizer/` and `text_encoder/` of a diffusers pipeline folder.
    public init(modelDirectory: URL) throws {
        self.init(
            tokenizer: try CLIPTokenizer(directory: modelDirectory.appendingPathComponent("tokenizer")),
            textEncoder: try CLIPTextModel(directory: modelDirectory.appendingPathComponent("text_encoder")))
    }

    /// The prompt and, with guidance, the negative prompt (empty when absent) as one batch: the rows are
    /// independent, so this equals diffusers' two separate calls.
    public func encode(prompt: String, negativePrompt: String?, classifierFreeGuidance: Bool) throws -> PromptEmbeddings {
        let prompts = classifierFreeGuidance ? [prompt, negativePrompt ?? ""] : [prompt]
        let hidden = try textEncoder(prompts.map { tokenizer.encode($0) }).lastHiddenState
        return PromptEmbeddings(
            promptEmbeds: hidden.batchItem(0), negativePromptEmbeds: classifierFreeGuidance ? hidden.batchItem(1) : nil)
    }
}
