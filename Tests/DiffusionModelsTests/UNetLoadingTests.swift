import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import DiffusionTestSupport
import Testing

/// Strict loading: unsupported config options, missing, unexpected and mis-shaped weights fail
/// with the option or the full key; and the IP-Adapter hook at zero scale changes nothing.
@Suite struct UNetLoadingTests {
    static let folder = UNetGoldens.folder("unet", "sd15_two_level")

    /// Each option with a value the runtime does not implement, as JSON.
    static let unsupported: [(option: String, json: String)] = [
        ("class_embed_type", #""timestep""#), ("addition_embed_type", #""text""#),
        ("resnet_time_scale_shift", #""scale_shift""#), ("cross_attention_norm", #""group_norm""#),
        ("attention_type", #""gated""#), ("only_cross_attention", "true"),
        ("down_block_types", #"["SimpleCrossAttnDownBlock2D", "DownBlock2D"]"#),
        ("mid_block_type", #""UNetMidBlock2DSimpleCrossAttn""#), ("num_attention_heads", "8"),
        ("time_embedding_type", #""fourier""#), ("encoder_hid_dim_type", #""text_proj""#),
    ]

    @Test func rejectsUnsupportedOptions() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("config.json"))
        let base = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        for (option, json) in Self.unsupported {
            var edited = base
            edited[option] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
            let config = try JSONSerialization.data(withJSONObject: edited)
            do {
                try JSONDecoder().decode(UNet2DConditionConfig.self, from: config).validate()
                Issue.record("\(option) = \(json) was accepted")
            } catch {
                #expect("\(error)".contains(option), "\(error)")
            }
        }
    }

    @Test func defaultsAreDiffusers() throws {
        let config = try JSONDecoder().decode(UNet2DConditionConfig.self, from: Data("{}".utf8))
        #expect(config == UNet2DConditionConfig())
        #expect(config.blockOutChannels == [320, 640, 1280, 1280] && config.crossAttentionDim == .all(1280))
        #expect(config.attentionHeadDim == .all(8) && config.flipSinToCos && config.midBlockType == "UNetMidBlock2DCrossAttn")
        try config.validate()
    }

    /// Rewrites the fixture's weights through `edit` and returns the loading error.
    func loadingError(_ edit: ([(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)]) throws -> String {
        let copy = try UNetGoldens.temporaryCopy(of: Self.folder)
        defer { try? FileManager.default.removeItem(at: copy) }
        let url = copy.appendingPathComponent("diffusion_pytorch_model.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        let tensors = try file.names.map { (name: $0, tensor: try file.tensor(named: $0)) }
        try SafeTensors.write(edit(tensors), to: url)
        do {
            _ = try UNet2DConditionModel(folder: copy)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func failsOnMissingUnexpectedOrMisshapedWeights() throws {
        let key = "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight"
        let missing = try loadingError { $0.filter { $0.name != key } }
        #expect(missing.contains("missing weight '\(key)'"), "\(missing)")
        let extra = try loadingError { $0 + [(name: "extra.weight", tensor: Tensor(shape: [2]))] }
        #expect(extra.contains("'extra.weight'"), "\(extra)")
        let misshaped = try loadingError { $0.map { $0.name == key ? (name: key, tensor: Tensor(shape: [4, 4])) : $0 } }
        #expect(misshaped.contains("'\(key)' has shape [4, 4]"), "\(misshaped)")
    }

    /// Deterministic values in +-0.2.
    func values(_ shape: [Int], seed: Int) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(sin(Double($0 * 7919 + seed))) * 0.2 })
    }

    @Test func ipAdapterAtZeroScaleChangesNothing() throws {
        let model = try UNet2DConditionModel(folder: Self.folder)
        let io = try UNetGoldens.IO(Self.folder)
        let (sample, context) = (try io.image("sample"), try io.tensor("encoder_hidden_states"))
        let timesteps = try io.tensor("timesteps").scalars
        let plain = try model(sample, timesteps: timesteps, encoderHiddenStates: context)
        let layers = model.crossAttentionLayers.enumerated().map { i, entry in
            IPAdapterProjection(
                toKIP: Linear(weight: values([entry.layer.innerDim, entry.layer.contextDim], seed: i), bias: nil),
                toVIP: Linear(weight: values([entry.layer.innerDim, entry.layer.contextDim], seed: i + 100), bias: nil))
        }
        let tokens = values([2, 4, 32], seed: 3)
        let zero = try model(
            sample, timesteps: timesteps, encoderHiddenStates: context,
            ipAdapterTokens: [IPAdapterTokens(tokens: tokens, scale: 0, layers: layers)])
        #expect(zero.scalars == plain.scalars)
        let scaled = try model(
            sample, timesteps: timesteps, encoderHiddenStates: context,
            ipAdapterTokens: [IPAdapterTokens(tokens: tokens, scale: 0.5, layers: layers)])
        #expect(relativeError(scaled, plain) > 1e-3)
        // The model is not changed by a call with adapters: without them it gives the plain output again.
        #expect(try model(sample, timesteps: timesteps, encoderHiddenStates: context).scalars == plain.scalars)
        // Projections for a UNet with another number of cross-attentions are an input error, not a crash.
        #expect(throws: ModelInputError.self) {
            try model(
                sample, timesteps: timesteps, encoderHiddenStates: context,
                ipAdapterTokens: [IPAdapterTokens(tokens: tokens, scale: 0.5, layers: Array(layers.dropLast()))])
        }
    }
}
