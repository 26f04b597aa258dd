import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Tests/Goldens/prompts, written by its generate.py: A1111's parse, chunks and weighted embeddings.
enum PromptGoldens {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens/prompts")

    struct Parse: Decodable {
        struct Chunk: Decodable {
            let ids: [Int32]
            let weights: [Double]
        }
        let prompt: String
        /// [[text, weight]], or nil where A1111's float() raises.
        let parsed: [Segment]?
        let chunks: [String: [Chunk]]?
    }

    /// A JSON pair `[text, weight]`.
    struct Segment: Decodable {
        let text: String
        let weight: Double

        init(from decoder: Decoder) throws {
            var pair = try decoder.unkeyedContainer()
            text = try pair.decode(String.self)
            weight = try pair.decode(Double.self)
        }
    }

    struct EmbeddingCase: Decodable {
        let `case`: String
        let prompt: String
        let negative_prompt: String
    }

    static let parses: [Parse] = decode("parses.json")
    static let embeddingCases: [EmbeddingCase] = decode("embeddings.json")

    static func embeddings(_ name: String) throws -> Tensor {
        try SafeTensorsFile(contentsOf: directory.appendingPathComponent("embeddings.safetensors")).tensor(named: name)
    }

    private static func decode<T: Decodable>(_ name: String) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name))) } catch {
            fatalError("cannot read the prompt golden \(name): \(error)")
        }
    }
}

/// The emphasis parser, the chunker and the weighted prompt encoders against the A1111 reference of
/// Tests/Goldens/prompts/generate.py. Parses and chunks must be equal; embeddings are within
/// `clipTolerance` (the encoders' own bound: the same F16-widened weights, float32 sums in another order).
struct PromptWeightingTests {
    static let prompts = PromptGoldens.parses.map(\.prompt)

    private func golden(_ prompt: String) throws -> PromptGoldens.Parse {
        try #require(PromptGoldens.parses.first { $0.prompt == prompt })
    }

    @Test(arguments: prompts)
    func parseMatchesA1111(prompt: String) throws {
        let golden = try golden(prompt)
        guard let expected = golden.parsed else {
            #expect(throws: PromptSyntaxError.self) { try PromptEmphasis.parse(prompt) }
            return
        }
        let parsed = try PromptEmphasis.parse(prompt)
        #expect(parsed == expected.map { PromptEmphasis.Segment($0.text, $0.weight) }, "\(prompt.debugDescription)")
    }

    @Test(arguments: prompts)
    func chunksMatchA1111(prompt: String) throws {
        let golden = try golden(prompt)
        guard let segments = golden.parsed, let chunks = golden.chunks else { return }
        for folder in ["tokenizer", "tokenizer_2"] {
            let expected = try #require(chunks[folder])
            let actual = PromptChunks(
                segments: segments.map { PromptEmphasis.Segment($0.text, $0.weight) },
                tokenizer: try CLIPGoldens.tokenizer(folder))
            #expect(actual.ids == expected.map(\.ids), "\(folder): \(prompt.debugDescription)")
            // A1111 turns the Python weights into a float32 tensor, as Float(_:) does.
            #expect(actual.weights == expected.map { $0.weights.map(Float.init) }, "\(folder): \(prompt.debugDescription)")
        }
    }

    /// The corpus reaches every rule: 40+ prompts, errors, BREAK, several chunks and the comma backtrack.
    @Test func corpusCoversTheGrammar() {
        #expect(PromptGoldens.parses.count >= 40)
        #expect(PromptGoldens.parses.contains { $0.parsed == nil })
        #expect(PromptGoldens.parses.contains { ($0.chunks?["tokenizer"]?.count ?? 0) >= 3 })
        #expect(PromptGoldens.parses.contains { $0.parsed?.contains { $0.text == "BREAK" && $0.weight == -1 } ?? false })
    }

    private func sd() throws -> StableDiffusionPromptEncoder {
        StableDiffusionPromptEncoder(tokenizer: try CLIPGoldens.tokenizer("tiny/tokenizer"), textEncoder: try CLIPModels.textEncoder())
    }

    private func sdxl() throws -> StableDiffusionXLPromptEncoder {
        StableDiffusionXLPromptEncoder(
            tokenizer: try CLIPGoldens.tokenizer("tiny/tokenizer"), tokenizer2: try CLIPGoldens.tokenizer("tiny/tokenizer_2"),
            textEncoder: try CLIPModels.textEncoder(), textEncoder2: try CLIPModels.textEncoder2(),
            forceZerosForEmptyPrompt: true)
    }

    private func expectMatch(_ actual: Tensor?, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = try #require(actual, "\(name) is missing", sourceLocation: sourceLocation)
        let error = clipMaxAbsError(actual, try PromptGoldens.embeddings(name))
        #expect(error <= clipTolerance, "\(name): \(error)", sourceLocation: sourceLocation)
    }

    @Test(arguments: PromptGoldens.embeddingCases.map(\.case))
    func weightedEmbeddingsMatchA1111(name: String) throws {
        let golden = try #require(PromptGoldens.embeddingCases.first { $0.case == name })
        let sd = try sd().encode(
            prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true, syntax: .weighted)
        try expectMatch(sd.promptEmbeds, "sd.\(name).prompt_embeds")
        try expectMatch(sd.negativePromptEmbeds, "sd.\(name).negative_embeds")

        let xl = try sdxl().encode(
            prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true, syntax: .weighted)
        try expectMatch(xl.promptEmbeds, "sdxl.\(name).prompt_embeds")
        try expectMatch(xl.negativePromptEmbeds, "sdxl.\(name).negative_embeds")
        try expectMatch(xl.pooledPromptEmbeds, "sdxl.\(name).prompt_pooled")
        try expectMatch(xl.negativePooledPromptEmbeds, "sdxl.\(name).negative_pooled")
    }

    /// The long tag list (400 tokens in the tiny encoders' cut vocabulary) spans four chunks, and its
    /// one-chunk negative is padded to four.
    @Test func longPromptIsChunked() throws {
        let golden = try #require(PromptGoldens.embeddingCases.first { $0.case == "long" })
        let xl = try sdxl().encode(
            prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true, syntax: .weighted)
        #expect(xl.promptEmbeds.shape == [1, 4 * 77, 64] && xl.negativePromptEmbeds?.shape == [1, 4 * 77, 64])
        let zeros = try sdxl().encode(prompt: golden.prompt, negativePrompt: nil, classifierFreeGuidance: true, syntax: .weighted)
        #expect(zeros.negativePromptEmbeds?.shape == [1, 4 * 77, 64])
        #expect(zeros.negativePromptEmbeds?.scalars.allSatisfy { $0 == 0 } == true)
    }

    /// The UNet takes the 308-token conditioning (prompt and padded negative as one batch) as diffusers'
    /// does; bound: the UNet goldens' 1e-4 of the output's scale.
    @Test func unetTakesChunkedConditioning() throws {
        let golden = try #require(PromptGoldens.embeddingCases.first { $0.case == "long" })
        let embeddings = try sd().encode(
            prompt: golden.prompt, negativePrompt: golden.negative_prompt, classifierFreeGuidance: true, syntax: .weighted)
        let negative = try #require(embeddings.negativePromptEmbeds)
        let unet = try UNet2DConditionModel(folder: LoRAGoldens.sd15.appendingPathComponent("unet"))
        let output = try unet(
            try PromptGoldens.embeddings("unet.long.sample"), timesteps: [400],
            encoderHiddenStates: Tensor.concatenate([embeddings.promptEmbeds, negative], axis: 0))
        UNetGoldens.expectClose(output, try PromptGoldens.embeddings("unet.long.output"), "unet on 308 tokens")
    }

    /// Without emphasis and within 75 tokens, the weighted reading is exactly diffusers' plain one.
    @Test(arguments: ["a photo of an astronaut riding a horse on mars", "", "a: b, c!"])
    func unweightedPromptIsUnchanged(prompt: String) throws {
        for encoder in [try sd() as any PromptEncoder, try sdxl()] {
            let plain = try encoder.encode(prompt: prompt, negativePrompt: "blurry", classifierFreeGuidance: true)
            let weighted = try encoder.encode(
                prompt: prompt, negativePrompt: "blurry", classifierFreeGuidance: true, syntax: .weighted)
            #expect(weighted.promptEmbeds.scalars == plain.promptEmbeds.scalars)
            #expect(weighted.negativePromptEmbeds?.scalars == plain.negativePromptEmbeds?.scalars)
            #expect(weighted.pooledPromptEmbeds?.scalars == plain.pooledPromptEmbeds?.scalars)
        }
    }

    /// A weight A1111 cannot read is an error that quotes it.
    @Test func badWeightNamesIt() {
        #expect {
            try PromptEmphasis.parse("(cat:1.2.3)")
        } throws: { error in
            (error as? PromptSyntaxError)?.message.contains("'1.2.3'") == true
        }
    }
}
