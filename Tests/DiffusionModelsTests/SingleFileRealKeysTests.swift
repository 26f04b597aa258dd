import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// The key maps and config inference at full size, on the names and shapes of real SD1.5 and SDXL base
/// single files (Tests/Goldens/checkpoints/real_keys.json: built on torch's meta device with the hub
/// configs and checked against diffusers' own single-file conversion by generate_real_keys.py).
struct SingleFileRealKeysTests {
    struct Family: Decodable {
        let original: [String: [Int]]
        let components: [String: [String: [Int]]]
        let configs: [String: [String: JSONValue]]
    }

    /// Just enough JSON to compare config values.
    enum JSONValue: Decodable, Equatable {
        case number(Double), string(String), bool(Bool), list([JSONValue]), other

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Bool.self) { self = .bool(v) }
            else if let v = try? c.decode(Double.self) { self = .number(v) }
            else if let v = try? c.decode(String.self) { self = .string(v) }
            else if let v = try? c.decode([JSONValue].self) { self = .list(v) }
            else { self = .other }
        }

        var double: Double? { if case .number(let v) = self { v } else { nil } }
        var int: Int? { double.map { Int($0) } }
        var ints: [Int]? { if case .list(let items) = self { items.compactMap(\.int) } else { int.map { [$0] } } }
        var string: String? { if case .string(let v) = self { v } else { nil } }
        var strings: [String]? { if case .list(let items) = self { items.compactMap(\.string) } else { nil } }
    }

    /// A file of names and shapes only: enough for the key maps and the configs, never read.
    final class ShapesOnly: TensorFile, @unchecked Sendable {
        struct Entry: TensorFileEntry {
            let dtype: SafeTensors.DType
            let shape: [Int]
        }

        let url = URL(fileURLWithPath: "/shapes-only.safetensors")
        let names: [String]
        let shapes: [String: [Int]]

        init(_ shapes: [String: [Int]]) {
            self.shapes = shapes
            names = shapes.keys.sorted()
        }

        func info(_ name: String) -> Entry? { shapes[name].map { Entry(dtype: .f16, shape: $0) } }

        func withElements<T>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
            throw ModelLoadingError("shapes only")
        }
    }

    static let families: [String: Family] = {
        let url = SingleFileCheckpointTests.goldens.appendingPathComponent("real_keys.json")
        return (try? JSONDecoder().decode([String: Family].self, from: Data(contentsOf: url))) ?? [:]
    }()

    /// Every diffusers name of every component, with its shape, as diffusers' conversion gives it.
    @Test(arguments: ["sd15", "sdxl"])
    func namesAndShapesMatchDiffusers(name: String) throws {
        let family = try #require(Self.families[name])
        let checkpoint = try SingleFileCheckpoint(file: ShapesOnly(family.original))
        #expect(checkpoint.family == (name == "sdxl" ? .stableDiffusionXL : .stableDiffusion15))
        #expect(Set(checkpoint.components.map(\.rawValue)) == Set(family.components.keys))
        for component in checkpoint.components {
            let view = try checkpoint.weights(component)
            let expected = try #require(family.components[component.rawValue])
            // transformers 4 and the original files keep CLIP's position_ids buffer; the model ignores it.
            let names = view.names.filter { !$0.hasSuffix("embeddings.position_ids") }
            #expect(names == expected.keys.sorted(), "\(name) \(component)")
            for key in names where view.info(key)?.shape != expected[key] {
                Issue.record("\(name) \(component) \(key): \(String(describing: view.info(key)?.shape)) != \(String(describing: expected[key]))")
            }
        }
    }

    /// The inferred configs equal the hub's, field by field, heads and sample sizes included.
    @Test(arguments: ["sd15", "sdxl"])
    func inferredConfigsMatchTheHub(name: String) throws {
        let family = try #require(Self.families[name])
        let checkpoint = try SingleFileCheckpoint(file: ShapesOnly(family.original))
        let unet = try checkpoint.unetConfig(), want = try #require(family.configs["unet"])
        let levels = unet.blockOutChannels.count
        #expect(unet.blockOutChannels == want["block_out_channels"]?.ints)
        #expect(unet.downBlockTypes == want["down_block_types"]?.strings && unet.upBlockTypes == want["up_block_types"]?.strings)
        #expect(try unet.attentionHeadDim.values(count: levels, field: "") == expand(want["attention_head_dim"], levels))
        #expect(try unet.transformerLayersPerBlock.values(count: levels, field: "") == expand(want["transformer_layers_per_block"], levels))
        #expect(try unet.crossAttentionDim.values(count: levels, field: "") == expand(want["cross_attention_dim"], levels))
        #expect(try unet.layersPerBlock.values(count: levels, field: "") == expand(want["layers_per_block"], levels))
        #expect(unet.useLinearProjection == (want["use_linear_projection"] == .bool(true)))
        #expect(unet.additionTimeEmbedDim == want["addition_time_embed_dim"]?.int)
        #expect(unet.projectionClassEmbeddingsInputDim == want["projection_class_embeddings_input_dim"]?.int)
        let vae = try checkpoint.vaeConfig(), wantVAE = try #require(family.configs["vae"])
        #expect(vae.blockOutChannels == wantVAE["block_out_channels"]?.ints && vae.layersPerBlock == wantVAE["layers_per_block"]?.int)
        #expect(vae.sampleSize == .all(wantVAE["sample_size"]?.int ?? 0) && vae.normNumGroups == wantVAE["norm_num_groups"]?.int)
        #expect(wantVAE["scaling_factor"]?.double.map(Float.init) == vae.scalingFactor)
        for component in checkpoint.components where component == .textEncoder || component == .textEncoder2 {
            let text = try checkpoint.textEncoderConfig(component), wantText = try #require(family.configs[component.rawValue])
            #expect(text.hiddenSize == wantText["hidden_size"]?.int && text.numAttentionHeads == wantText["num_attention_heads"]?.int)
            #expect(text.numHiddenLayers == wantText["num_hidden_layers"]?.int && text.intermediateSize == wantText["intermediate_size"]?.int)
            #expect(text.hiddenAct == wantText["hidden_act"]?.string && text.projectionDim == wantText["projection_dim"]?.int)
            #expect(text.vocabSize == wantText["vocab_size"]?.int && text.eosTokenId == wantText["eos_token_id"]?.int)
        }
    }

    private func expand(_ value: JSONValue?, _ count: Int) -> [Int]? {
        guard let values = value?.ints else { return nil }
        return values.count == 1 ? Array(repeating: values[0], count: count) : values
    }

    /// An SD1.5 ControlNet at full size: names, shapes and the config (conditioning channels 16, 32,
    /// 96, 256; 8 heads; 768-wide cross-attention) as diffusers has them.
    @Test func controlNetMatchesDiffusers() throws {
        let family = try #require(Self.families["controlnet_sd15"])
        let view = try SingleFileControlNet.weights(ShapesOnly(family.original))
        let expected = try #require(family.components["controlnet"])
        #expect(view.names == expected.keys.sorted())
        for key in view.names where view.info(key)?.shape != expected[key] {
            Issue.record("\(key): \(String(describing: view.info(key)?.shape)) != \(String(describing: expected[key]))")
        }
        let config = try SingleFileControlNet.config(view), want = try #require(family.configs["controlnet"])
        let levels = config.unet.blockOutChannels.count
        #expect(config.conditioningEmbeddingOutChannels == want["conditioning_embedding_out_channels"]?.ints)
        #expect(config.conditioningChannels == want["conditioning_channels"]?.int)
        #expect(config.unet.blockOutChannels == want["block_out_channels"]?.ints && config.unet.downBlockTypes == want["down_block_types"]?.strings)
        #expect(try config.unet.attentionHeadDim.values(count: levels, field: "") == expand(want["attention_head_dim"], levels))
        #expect(try config.unet.crossAttentionDim.values(count: levels, field: "") == expand(want["cross_attention_dim"], levels))
    }
}
