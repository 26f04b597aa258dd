import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Text encoder folders: both key layouts load, the position_ids buffer is ignored, and anything else
/// out of place is an error naming the file and the key or field.
struct CLIPTextModelLoadingTests {
    /// The golden text_encoder's tensors, without the position_ids buffer, as `(name, tensor)`.
    private func goldenTensors() throws -> [(name: String, tensor: Tensor)] {
        let file = try SafeTensorsFile(contentsOf: CLIPGoldens.url("tiny/text_encoder/model.safetensors"))
        return try file.names.filter { !$0.hasSuffix("position_ids") }.map { ($0, try file.tensor(named: $0)) }
    }

    /// A copy of the golden text_encoder whose weights are `tensors` (F16, as the golden).
    private func folder(with tensors: [(name: String, tensor: Tensor)]) throws -> CLIPScratchFolder {
        let folder = try CLIPScratchFolder(copying: "tiny/text_encoder")
        try SafeTensors.write(tensors, dtype: .f16, to: folder.file("model.safetensors"))
        return folder
    }

    private func loadError(_ folder: CLIPScratchFolder) -> String {
        do {
            _ = try CLIPTextModel(directory: folder.url)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    @Test func goldenFolderUsesTheHubLayout() throws {
        let file = try SafeTensorsFile(contentsOf: CLIPGoldens.url("tiny/text_encoder/model.safetensors"))
        #expect(file.names.allSatisfy { $0.hasPrefix("text_model.") })
        #expect(file.names.contains("text_model.embeddings.position_ids"))
    }

    /// transformers 5 saves a CLIPTextModel without the `text_model.` prefix; it gives the same outputs.
    @Test func unprefixedKeysLoad() throws {
        let tensors = try goldenTensors().map { (String($0.name.dropFirst("text_model.".count)), $0.tensor) }
        let folder = try folder(with: tensors)
        let ids = try #require(CLIPGoldens.encoders.input_ids["batch2"])
        let bare = try CLIPTextModel(directory: folder.url)(ids)
        let hub = try CLIPModels.textEncoder()(ids)
        #expect(bare.lastHiddenState.scalars == hub.lastHiddenState.scalars)
        #expect(bare.pooledOutput.scalars == hub.pooledOutput.scalars)
    }

    @Test func unusedKeyIsAnError() throws {
        let folder = try folder(with: try goldenTensors() + [("text_model.extra.weight", Tensor(shape: [2]))])
        let message = loadError(folder)
        #expect(message.contains("model.safetensors") && message.contains("'text_model.extra.weight'"), "\(message)")
    }

    @Test func missingKeyIsAnError() throws {
        let folder = try folder(with: try goldenTensors().filter { $0.name != "text_model.encoder.layers.3.mlp.fc2.bias" })
        let message = loadError(folder)
        #expect(message.contains("model.safetensors") && message.contains("encoder.layers.3.mlp.fc2.bias"), "\(message)")
    }

    @Test func configThatDoesNotMatchTheWeights() throws {
        let folder = try CLIPScratchFolder(copying: "tiny/text_encoder")
        let config = try String(contentsOf: folder.file("config.json"), encoding: .utf8)
        try folder.write(config.replacingOccurrences(of: "\"intermediate_size\": 37", with: "\"intermediate_size\": 36"), to: "config.json")
        let message = loadError(folder)
        #expect(message.contains("mlp.fc1.weight' has shape [37, 32], the config implies [36, 32]"), "\(message)")
    }

    @Test func malformedConfigs() throws {
        let folder = try CLIPScratchFolder(copying: "tiny/text_encoder")
        let cases = [
            ("{\"hidden_size\": \"32\"}", "hidden_size"),
            ("{\"hidden_act\": \"relu\"}", "hidden_act \"relu\""),
            ("{\"hidden_size\": 30, \"num_attention_heads\": 4}", "not a multiple of num_attention_heads"),
            ("{\"num_hidden_layers\": 0}", "'num_hidden_layers' = 0"),
            ("{\"eos_token_id\": [2]}", "eos_token_id"),
            ("{\"hidden_size\": ", "not valid JSON"),
        ]
        for (json, words) in cases {
            try folder.write(json, to: "config.json")
            let message = loadError(folder)
            #expect(message.contains("config.json: ") && message.contains(words), "\(json): \(message)")
        }
    }

    @Test(arguments: ["config.json", "model.safetensors"])
    func missingFile(name: String) throws {
        let folder = try CLIPScratchFolder(copying: "tiny/text_encoder")
        try folder.remove(name)
        let message = loadError(folder)
        #expect(message.contains(folder.file(name).path), "\(message)")
    }

    @Test func projectionNeedsProjectionDim() throws {
        let folder = try CLIPScratchFolder(copying: "tiny/text_encoder_2")
        let config = try String(contentsOf: folder.file("config.json"), encoding: .utf8)
        try folder.write(config.replacingOccurrences(of: "\"projection_dim\": 24", with: "\"projection_dim\": null"), to: "config.json")
        #expect {
            _ = try CLIPTextModelWithProjection(directory: folder.url)
        } throws: { error in
            "\(error)".contains("config.json: projection_dim is null")
        }
    }

    /// A CLIPTextModel file is not a CLIPTextModelWithProjection (no text_projection) and vice versa.
    @Test func towersAreNotInterchangeable() throws {
        #expect(throws: ModelLoadingError.self) { _ = try CLIPTextModelWithProjection(directory: CLIPGoldens.url("tiny/text_encoder")) }
        #expect(throws: ModelLoadingError.self) { _ = try CLIPTextModel(directory: CLIPGoldens.url("tiny/text_encoder_2")) }
    }
}
