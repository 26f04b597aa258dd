import DiffusionCore
import DiffusionModels
import Foundation
import Testing

/// The prompt encoders against diffusers' StableDiffusionPipeline / StableDiffusionXLPipeline
/// `encode_prompt` with the golden tokenizers and tiny encoders (Tests/Goldens/clip/tiny is laid out as a
/// pipeline folder). Tolerance: `clipTolerance`, for the reasons given there.
struct TextPromptEncoderTests {
    static let cases = CLIPGoldens.encoders.pipelines.map(\.case)

    private func pipelineCase(_ name: String) throws -> CLIPGoldens.Encoders.Pipeline {
        try #require(CLIPGoldens.encoders.pipelines.first { $0.case == name })
    }

    private func sd() throws -> StableDiffusionPromptEncoder {
        StableDiffusionPromptEncoder(tokenizer: try CLIPGoldens.tokenizer("tiny/tokenizer"), textEncoder: try CLIPModels.textEncoder())
    }

    private func sdxl(forceZeros: Bool) throws -> StableDiffusionXLPromptEncoder {
        StableDiffusionXLPromptEncoder(
            tokenizer: try CLIPGoldens.tokenizer("tiny/tokenizer"), tokenizer2: try CLIPGoldens.tokenizer("tiny/tokenizer_2"),
            textEncoder: try CLIPModels.textEncoder(), textEncoder2: try CLIPModels.textEncoder2(),
            forceZerosForEmptyPrompt: forceZeros)
    }

    private func expectMatch(_ actual: Tensor?, _ golden: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = try #require(actual, "\(golden) is missing", sourceLocation: sourceLocation)
        let error = clipMaxAbsError(actual, try CLIPGoldens.output(golden))
        #expect(error <= clipTolerance, "\(golden): \(error)", sourceLocation: sourceLocation)
    }

    @Test(arguments: cases)
    func stableDiffusionMatchesDiffusers(name: String) throws {
        let golden = try pipelineCase(name)
        let embeddings = try sd().encode(prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true)
        #expect(embeddings.promptEmbeds.shape == [1, 77, 32])
        try expectMatch(embeddings.promptEmbeds, "sd.\(name).prompt_embeds")
        try expectMatch(embeddings.negativePromptEmbeds, "sd.\(name).negative_prompt_embeds")
        #expect(embeddings.pooledPromptEmbeds == nil && embeddings.negativePooledPromptEmbeds == nil)
    }

    @Test(arguments: cases)
    func stableDiffusionXLMatchesDiffusers(name: String) throws {
        let golden = try pipelineCase(name)
        let embeddings = try sdxl(forceZeros: true).encode(
            prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true)
        #expect(embeddings.promptEmbeds.shape == [1, 77, 64], "32 + 32 features of the two encoders")
        #expect(embeddings.pooledPromptEmbeds?.shape == [1, 24], "text_encoder_2's projection")
        let prefix = "sdxl.\(name).zeros_true"
        try expectMatch(embeddings.promptEmbeds, "\(prefix).prompt_embeds")
        try expectMatch(embeddings.negativePromptEmbeds, "\(prefix).negative_prompt_embeds")
        try expectMatch(embeddings.pooledPromptEmbeds, "\(prefix).pooled_prompt_embeds")
        try expectMatch(embeddings.negativePooledPromptEmbeds, "\(prefix).negative_pooled_prompt_embeds")
    }

    /// Without a negative prompt, force_zeros_for_empty_prompt gives zeros; without the flag, "" is encoded.
    @Test func forceZerosForEmptyPrompt() throws {
        let golden = try pipelineCase("plain")
        #expect(golden.negative_prompt == nil)
        let zeros = try sdxl(forceZeros: true).encode(prompt: golden.prompt, negativePrompt: nil, classifierFreeGuidance: true)
        #expect(zeros.negativePromptEmbeds?.shape == [1, 77, 64] && zeros.negativePooledPromptEmbeds?.shape == [1, 24])
        #expect(zeros.negativePromptEmbeds?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(zeros.negativePooledPromptEmbeds?.scalars.allSatisfy { $0 == 0 } == true)

        let encoded = try sdxl(forceZeros: false).encode(prompt: golden.prompt, negativePrompt: nil, classifierFreeGuidance: true)
        let roles = ["prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"]
        let tensors = [encoded.promptEmbeds, encoded.negativePromptEmbeds, encoded.pooledPromptEmbeds,
                       encoded.negativePooledPromptEmbeds]
        for (role, tensor) in zip(roles, tensors) {
            try expectMatch(tensor, "sdxl.plain.zeros_false.\(role)")
        }
    }

    /// At guidance <= 1 the pipelines skip the negative pass: no negative conditioning, same positive.
    @Test func withoutGuidance() throws {
        let golden = try pipelineCase("negative")
        let sd = try sd().encode(prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: false)
        #expect(sd.negativePromptEmbeds == nil)
        try expectMatch(sd.promptEmbeds, "sd.negative.prompt_embeds")
        let xl = try sdxl(forceZeros: true).encode(prompt: golden.prompt, negativePrompt: nil, classifierFreeGuidance: false)
        #expect(xl.negativePromptEmbeds == nil && xl.negativePooledPromptEmbeds == nil)
        try expectMatch(xl.promptEmbeds, "sdxl.negative.zeros_true.prompt_embeds")
        try expectMatch(xl.pooledPromptEmbeds, "sdxl.negative.zeros_true.pooled_prompt_embeds")
    }

    /// Tests/Goldens/clip/tiny is a pipeline folder: tokenizer/, tokenizer_2/, text_encoder/, text_encoder_2/.
    @Test func loadsFromAModelFolder() throws {
        let golden = try pipelineCase("negative")
        let sd = try StableDiffusionPromptEncoder(modelDirectory: CLIPGoldens.url("tiny"))
            .encode(prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true)
        try expectMatch(sd.negativePromptEmbeds, "sd.negative.negative_prompt_embeds")
        let xl = try StableDiffusionXLPromptEncoder(modelDirectory: CLIPGoldens.url("tiny"), forceZerosForEmptyPrompt: true)
            .encode(prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true)
        try expectMatch(xl.negativePooledPromptEmbeds, "sdxl.negative.zeros_true.negative_pooled_prompt_embeds")
    }
}
