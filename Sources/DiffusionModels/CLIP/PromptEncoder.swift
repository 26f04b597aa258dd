// Follows the encode_prompt methods of diffusers' StableDiffusionPipeline and StableDiffusionXLPipeline.
import DiffusionCore
import Foundation

/// What diffusers' `encode_prompt` returns for one prompt (`num_images_per_prompt=1`): each tensor has
/// batch 1, and the pipeline repeats it per image.
public struct PromptEmbeddings: Sendable {
    /// `[1, 77, D]` (`[1, 77 * chunks, D]` for a long weighted prompt): the text conditioning of the UNet's cross-attention (`encoder_hidden_states`).
    public let promptEmbeds: Tensor
    /// The negative prompt's conditioning for classifier-free guidance; nil without guidance.
    public let negativePromptEmbeds: Tensor?
    /// SDXL: `[1, projection_dim]`, the `text_embeds` added-condition; nil for SD1.5.
    public let pooledPromptEmbeds: Tensor?
    /// SDXL: the negative prompt's pooled embedding; nil without guidance or for SD1.5.
    public let negativePooledPromptEmbeds: Tensor?

    public init(
        promptEmbeds: Tensor, negativePromptEmbeds: Tensor? = nil, pooledPromptEmbeds: Tensor? = nil,
        negativePooledPromptEmbeds: Tensor? = nil
    ) {
        self.promptEmbeds = promptEmbeds
        self.negativePromptEmbeds = negativePromptEmbeds
        self.pooledPromptEmbeds = pooledPromptEmbeds
        self.negativePooledPromptEmbeds = negativePooledPromptEmbeds
    }
}

/// Turns a prompt into the text conditioning of a pipeline family.
public protocol PromptEncoder: Sendable {
    /// diffusers' `encode_prompt(prompt, num_images_per_prompt=1, do_classifier_free_guidance=..., negative_prompt=...)`.
    ///
    /// - Parameters:
    ///   - negativePrompt: nil when the request has none (an empty prompt is then encoded, except where
    ///     SDXL's `force_zeros_for_empty_prompt` makes the negative conditioning zeros).
    ///   - classifierFreeGuidance: whether the negative conditioning is wanted at all.
    ///   - syntax: `.plain` reads the prompts as diffusers does (cut to 77 tokens); `.weighted` as A1111
    ///     does (emphasis, `BREAK`, any length in 75-token chunks; the embeddings then hold `77 * chunks`
    ///     tokens, the prompt and its negative padded to the same count).
    func encode(
        prompt: String, negativePrompt: String?, classifierFreeGuidance: Bool, syntax: PromptSyntax
    ) throws -> PromptEmbeddings
}

extension PromptEncoder {
    /// diffusers' `encode_prompt`: the prompts as plain text, cut to 77 tokens.
    public func encode(prompt: String, negativePrompt: String?, classifierFreeGuidance: Bool) throws -> PromptEmbeddings {
        try encode(prompt: prompt, negativePrompt: negativePrompt, classifierFreeGuidance: classifierFreeGuidance, syntax: .plain)
    }
}

extension Tensor {
    /// Row `index` of the batch axis, keeping the axis (`x[index:index+1]`).
    func batchItem(_ index: Int) -> Tensor { slice(axis: 0, index..<(index + 1)) }
}
