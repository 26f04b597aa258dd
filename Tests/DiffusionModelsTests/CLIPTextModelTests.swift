import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Max abs error of the encoders against transformers on the same F16 weights widened to float32.
/// Both sides compute in float32; they differ only in summation order (matmuls of K <= 37, attention
/// over <= 77 keys) and in the exp/erf/rsqrt implementations, which measures ~2e-6 here on
/// activations of magnitude <= ~6. 1e-4 keeps a margin while a real fault (a mask, a position,
/// the activation, the pooled index) moves outputs by 1e-2 or more.
let clipTolerance: Float = 1e-4

/// The golden text encoders, loaded once.
enum CLIPModels {
    private static let textEncoders = CLIPCache<CLIPTextModel>()
    private static let textEncoders2 = CLIPCache<CLIPTextModelWithProjection>()

    static func textEncoder() throws -> CLIPTextModel {
        try textEncoders.value("text_encoder") { try CLIPTextModel(directory: CLIPGoldens.url("tiny/text_encoder")) }
    }

    static func textEncoder2() throws -> CLIPTextModelWithProjection {
        try textEncoders2.value("text_encoder_2") {
            try CLIPTextModelWithProjection(directory: CLIPGoldens.url("tiny/text_encoder_2"))
        }
    }
}

/// The tiny random encoders of Tests/Goldens/clip against transformers' outputs.
struct CLIPTextModelTests {
    static let cases = ["single", "batch2", "batch2_pad0", "no_eos", "short"]

    /// Compares every hidden state the golden holds for `prefix` (all layers for batch2, else the penultimate).
    private func expectHiddenStates(_ states: [Tensor], _ prefix: String) throws {
        #expect(states.count == 6, "the embeddings and 5 layers")
        var compared = 0
        for (layer, state) in states.enumerated() where CLIPGoldens.outputs.info("\(prefix).hidden_states.\(layer)") != nil {
            let error = clipMaxAbsError(state, try CLIPGoldens.output("\(prefix).hidden_states.\(layer)"))
            #expect(error <= clipTolerance, "\(prefix) hidden_states[\(layer)]: \(error)")
            compared += 1
        }
        #expect(compared >= 1)
    }

    @Test(arguments: cases)
    func textEncoderMatchesTransformers(name: String) throws {
        let ids = try #require(CLIPGoldens.encoders.input_ids[name])
        let output = try CLIPModels.textEncoder()(ids)
        let prefix = "text_encoder.\(name)"
        let last = clipMaxAbsError(output.lastHiddenState, try CLIPGoldens.output("\(prefix).last_hidden_state"))
        let pooled = clipMaxAbsError(output.pooledOutput, try CLIPGoldens.output("\(prefix).pooler_output"))
        #expect(last <= clipTolerance, "\(prefix) last_hidden_state: \(last)")
        #expect(pooled <= clipTolerance, "\(prefix) pooler_output: \(pooled)")
        try expectHiddenStates(output.hiddenStates, prefix)
    }

    @Test(arguments: cases)
    func textEncoder2MatchesTransformers(name: String) throws {
        let ids = try #require(CLIPGoldens.encoders.input_ids[name])
        let output = try CLIPModels.textEncoder2()(ids)
        let prefix = "text_encoder_2.\(name)"
        let last = clipMaxAbsError(output.lastHiddenState, try CLIPGoldens.output("\(prefix).last_hidden_state"))
        let projected = clipMaxAbsError(output.textEmbeds, try CLIPGoldens.output("\(prefix).text_embeds"))
        #expect(last <= clipTolerance, "\(prefix) last_hidden_state: \(last)")
        #expect(projected <= clipTolerance, "\(prefix) text_embeds: \(projected)")
        #expect(output.textEmbeds.shape == [ids.count, 24])
        try expectHiddenStates(output.hiddenStates, prefix)
    }

    /// Without an end token the two pooling rules part: the legacy eos_token_id 2 takes the largest id
    /// (planted at 40 by generate.py), eos_token_id 2513 (the cut vocabulary's end token) falls back to position 0.
    @Test func poolingPositions() throws {
        let ids = try #require(CLIPGoldens.encoders.input_ids["no_eos"])
        #expect(try CLIPModels.textEncoder().endTokenPositions(ids)[0] == 40)
        #expect(try CLIPModels.textEncoder2().textModel.endTokenPositions(ids) == [0, 0])
        let padded = try #require(CLIPGoldens.encoders.input_ids["batch2"])
        // "<|endoftext|>" typed in the prompt is the first end token: both rules pool there.
        #expect(try CLIPModels.textEncoder().endTokenPositions(padded) == (try CLIPModels.textEncoder2().textModel.endTokenPositions(padded)))
    }

    @Test func configDefaultsAndFields() throws {
        let config = try CLIPModels.textEncoder().config
        #expect(config.hiddenSize == 32 && config.numHiddenLayers == 5 && config.numAttentionHeads == 4)
        #expect(config.intermediateSize == 37 && config.hiddenAct == "quick_gelu" && config.eosTokenId == 2)
        #expect(try CLIPModels.textEncoder2().config.projectionDim == 24)
        let defaults = try JSONDecoder().decode(CLIPTextConfig.self, from: Data("{}".utf8))
        #expect(defaults == CLIPTextConfig())
        #expect(defaults.hiddenSize == 512 && defaults.eosTokenId == 49407 && defaults.projectionDim == 512)
    }

    @Test func inputErrors() throws {
        let model = try CLIPModels.textEncoder()
        let bad: [([[Int32]], String)] = [
            ([], "at least one"), ([[]], "at least one"), ([[1, 2], [1]], "sequence 1 has 1 ids"),
            ([[Int32]](repeating: Array(repeating: 1, count: 78), count: 1), "78 ids exceed"),
            ([[1, 2514]], "id 2514"), ([[-1]], "id -1"),
        ]
        for (ids, words) in bad {
            #expect {
                _ = try model(ids)
            } throws: { error in
                (error as? CLIPInputError)?.message.contains(words) == true
            }
        }
    }
}
