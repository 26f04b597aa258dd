import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Tests/Goldens/lora, written by its generate.py, and the tiny models the LoRAs were made for.
enum LoRAGoldens {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("Tests/Goldens/lora")
    static let sd15 = root.appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15")
    static let sdxl = root.appendingPathComponent("Tests/Goldens/pipeline/models/tiny-sdxl")

    static func file(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: directory.appendingPathComponent(name))
    }

    static func lora(_ name: String, targets: LoRATargets) throws -> LoRA {
        try LoRA(contentsOf: directory.appendingPathComponent(name + ".safetensors"), targets: targets)
    }

    /// The weight `key` (`text_model.`-prefixed for text encoders) of a component read through `patches`,
    /// as a model being built reads it.
    static func patchedWeight(_ model: URL, _ component: LoRAComponent, _ key: String, _ patches: WeightPatches) throws -> Tensor {
        let name = component == .unet ? "diffusion_pytorch_model.safetensors" : "model.safetensors"
        let store = try WeightStore(contentsOf: model.appendingPathComponent(component.rawValue).appendingPathComponent(name),
                                    patches: patches)
        let stored = store.contains(key) ? key : String(key.dropFirst("text_model.".count))
        return try store.weights(stored).widened()
    }
}

/// LoRA reading and merging against diffusers (kohya and PEFT files at two scales, SD1.5; kohya sgm
/// names, SDXL) and against the LyCORIS/legacy formulas in numpy.
///
/// Tolerance for merged weights: 1e-5. Both sides add float32 products of rank 2-4 to the same
/// F16-widened base; the results differ by float32 rounding only (measured below 1e-6 on weights up
/// to 1.5). Model outputs use the text encoders' bound (`clipTolerance`) and the UNet goldens' (1e-4 of
/// the output's scale, `UNetGoldens.tolerance`).
struct LoRATests {
    static let weightTolerance: Float = 1e-5

    private func sd15Set() throws -> LoRASet {
        let set = try LoRASet(
            files: [("kohya", 0.8), ("peft", -0.5)].map { (LoRAGoldens.directory.appendingPathComponent($0 + ".safetensors"), $1) },
            modelDirectory: LoRAGoldens.sd15)
        #expect(set.cacheKey == "kohya@0.8+peft@-0.5")
        return set
    }

    private func expectWeights(
        _ model: URL, _ set: LoRASet, golden: SafeTensorsFile, prefix: String = "", scale: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var compared = 0
        for name in golden.names where name.hasPrefix(prefix) && name.hasSuffix(".weight") {
            let rest = name.dropFirst(prefix.count)
            let component = try #require(LoRAComponent.allCases.sorted { $0.rawValue.count > $1.rawValue.count }
                .first { rest.hasPrefix($0.rawValue + ".") })
            let key = String(rest.dropFirst(component.rawValue.count + 1))
            let actual = try LoRAGoldens.patchedWeight(model, component, key, set.patches(for: component))
            let error = clipMaxAbsError(actual, try golden.tensor(named: name))
            #expect(error <= Self.weightTolerance, "\(name): \(error)", sourceLocation: sourceLocation)
            compared += 1
        }
        #expect(compared >= 2, sourceLocation: sourceLocation)
    }

    /// kohya (0.8) and PEFT (-0.5) stacked, as diffusers' set_adapters + fuse_lora merge them:
    /// attention, 1x1-conv proj_in/proj_out, feed-forward, a 3x3 resnet conv, text-encoder projections.
    @Test func kohyaAndPEFTMatchDiffusers() throws {
        try expectWeights(LoRAGoldens.sd15, try sd15Set(), golden: try LoRAGoldens.file("merged.safetensors"))
    }

    /// Kept as float16, a merged weight is the float32 merge rounded once: within half a float16 step
    /// (2^-11 relative; the weights are below 2, so 1e-3), and stored in half the memory.
    @Test func mergedWeightsKeptAsFloat16() throws {
        let golden = try LoRAGoldens.file("merged.safetensors")
        let key = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"
        let patches = try sd15Set().patches(for: .unet, keepingFloat16: true)
        let store = try WeightStore(
            contentsOf: LoRAGoldens.sd15.appendingPathComponent("unet/diffusion_pytorch_model.safetensors"), patches: patches)
        let weights = try store.weights(key)
        #expect(weights.isFloat16)
        let error = clipMaxAbsError(weights.widened(), try golden.tensor(named: "unet." + key))
        #expect(error <= 1e-3 && error > 0, "\(error)")
    }

    /// Built models: the patched UNet and text encoder give diffusers' fused outputs; the base model
    /// built beside them is unchanged.
    @Test func patchedModelsMatchDiffusers() throws {
        let golden = try LoRAGoldens.file("merged.safetensors")
        let set = try sd15Set()
        let unetFolder = LoRAGoldens.sd15.appendingPathComponent("unet")
        let sample = try golden.tensor(named: "unet_sample"), hidden = try golden.tensor(named: "unet_hidden")
        let base = try UNet2DConditionModel(folder: unetFolder)
        let before = try base(sample, timesteps: [500], encoderHiddenStates: hidden)
        let patched = try UNet2DConditionModel(folder: unetFolder, patches: set.patches(for: .unet))
        let output = try patched(sample, timesteps: [500], encoderHiddenStates: hidden)
        UNetGoldens.expectClose(output, try golden.tensor(named: "unet_output"), "patched unet")
        let after = try base(sample, timesteps: [500], encoderHiddenStates: hidden)
        #expect(after.scalars == before.scalars, "the base UNet is untouched")
        #expect(clipMaxAbsError(output, before) > 1e-3, "the LoRA changes the output")

        let encoder = try CLIPTextModel(
            directory: LoRAGoldens.sd15.appendingPathComponent("text_encoder"), patches: set.patches(for: .textEncoder))
        // "a photo of an" in tiny-sd15's tokenizer (CLIP's cut after 2000 merges: start 2512, end and pad 2513).
        let ids: [Int32] = [2512, 320, 1125, 539, 550, 2513] + Array(repeating: 2513, count: 71)
        let textError = clipMaxAbsError(try encoder([ids]).lastHiddenState, try golden.tensor(named: "text_encoder_output"))
        #expect(textError <= clipTolerance, "text encoder: \(textError)")
    }

    /// An LCM-LoRA-shaped kohya file (every attention, proj, feed-forward, resnet conv, time_emb_proj
    /// and sampler conv of the UNet) builds a UNet whose output is diffusers' fused one.
    @Test func lcmShapedLoRAMatchesDiffusers() throws {
        let inputs = try LoRAGoldens.file("merged.safetensors"), golden = try LoRAGoldens.file("lcm_shaped_output.safetensors")
        let lora = try LoRAGoldens.lora("lcm_shaped", targets: try LoRATargets(modelDirectory: LoRAGoldens.sd15))
        #expect(lora.moduleCount(.unet) == Int(try golden.tensor(named: "module_count").scalars[0]))
        let unet = try UNet2DConditionModel(
            folder: LoRAGoldens.sd15.appendingPathComponent("unet"), patches: LoRASet([(lora, 1)]).patches(for: .unet))
        let output = try unet(
            try inputs.tensor(named: "unet_sample"), timesteps: [500], encoderHiddenStates: try inputs.tensor(named: "unet_hidden"))
        UNetGoldens.expectClose(output, try golden.tensor(named: "unet_output"), "LCM-shaped unet")
    }

    /// LoHa, LoKr (whole and low-rank factors, linear and 3x3 conv) and diffusers' older key layouts at
    /// scale 0.7, against the formulas in numpy.
    @Test(arguments: ["legacy", "loha", "lokr"])
    func formatsMatchFormulas(format: String) throws {
        let targets = try LoRATargets(modelDirectory: LoRAGoldens.sd15)
        let set = LoRASet([(try LoRAGoldens.lora(format, targets: targets), 0.7)])
        try expectWeights(LoRAGoldens.sd15, set, golden: try LoRAGoldens.file("merged_formulas.safetensors"), prefix: format + ".")
    }

    /// kohya's SDXL file in sgm block names (input/middle/output blocks, resnet layers, op, conv_in/out,
    /// time_embed, label_emb, lora_te1_/lora_te2_) resolves where diffusers maps it, and merges alike.
    @Test func sdxlSGMNamesMatchDiffusers() throws {
        let targets = try LoRATargets(modelDirectory: LoRAGoldens.sdxl)
        let lora = try LoRAGoldens.lora("sdxl_kohya", targets: targets)
        let names = try JSONDecoder().decode(
            [String: String].self, from: Data(contentsOf: LoRAGoldens.directory.appendingPathComponent("sdxl_names.json")))
        #expect(lora.moduleCount(.unet) + lora.moduleCount(.textEncoder) + lora.moduleCount(.textEncoder2) == names.count)
        try expectWeights(LoRAGoldens.sdxl, LoRASet([(lora, 1.5)]), golden: try LoRAGoldens.file("sdxl_merged.safetensors"))
    }

    /// The patched SDXL text encoders, loaded as the pipeline loads them, give the fused pipeline's
    /// `encode_prompt`; the patched UNet builds with every sgm-named module applied.
    @Test func sdxlPatchedPipelineModels() throws {
        let golden = try LoRAGoldens.file("sdxl_merged.safetensors")
        let targets = try LoRATargets(modelDirectory: LoRAGoldens.sdxl)
        let set = LoRASet([(try LoRAGoldens.lora("sdxl_kohya", targets: targets), 1.5)])
        let encoder = try StableDiffusionXLPromptEncoder(modelDirectory: LoRAGoldens.sdxl, forceZerosForEmptyPrompt: true, loras: set)
        let embeddings = try encoder.encode(prompt: "a red house by a lake", negativePrompt: "blurry", classifierFreeGuidance: true)
        let roles = ["prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"]
        let tensors = [embeddings.promptEmbeds, embeddings.negativePromptEmbeds, embeddings.pooledPromptEmbeds,
                       embeddings.negativePooledPromptEmbeds]
        for (role, tensor) in zip(roles, tensors) {
            let error = clipMaxAbsError(try #require(tensor), try golden.tensor(named: "encode_prompt." + role))
            #expect(error <= clipTolerance, "\(role): \(error)")
        }
        _ = try UNet2DConditionModel(folder: LoRAGoldens.sdxl.appendingPathComponent("unet"), patches: set.patches(for: .unet))
    }

    /// A key that maps to no weight is an error naming the LoRA and the key; so is a factor that does
    /// not fit its weight, and a tensor kind this runtime does not apply.
    @Test(arguments: [
        ("lora_unet_down_blocks_0_attentions_9_proj_in.lora_down.weight", [2, 32, 1, 1], "maps to no weight"),
        ("unet.down_blocks.0.attentions.0.proj_in.lora_A.weight", [2, 31, 1, 1], "do not make a weight"),
        ("lora_unet_down_blocks_0_attentions_0_proj_in.dora_scale", [32, 1, 1, 1], "is not supported"),
        ("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", [2, 32], "does not have"),
    ])
    func badFilesAreErrors(key: String, shape: [Int], expected: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("broken.safetensors")
        let up = key.replacingOccurrences(of: "lora_down", with: "lora_up").replacingOccurrences(of: "lora_A", with: "lora_B")
        var tensors = [(name: key, tensor: Tensor(shape: shape, repeating: 0.1))]
        if up != key { tensors.append((up, Tensor(shape: [32, 2] + Array(shape.dropFirst(2).map { _ in 1 }), repeating: 0.1))) }
        try SafeTensors.write(tensors, to: url)
        let targets = try LoRATargets(modelDirectory: LoRAGoldens.sd15)
        #expect {
            try LoRA(contentsOf: url, targets: targets)
        } throws: { error in
            let message = (error as? LoRAError)?.message ?? ""
            return message.contains("LoRA 'broken'") && message.contains(key) && message.contains(expected)
        }
    }
}
