import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Single-file checkpoints against their diffusers folder form (Tests/Goldens/checkpoints, made by
/// generate_single_file.py, whose files diffusers' own single-file conversion turns back into the
/// folder's tensors exactly).
struct SingleFileCheckpointTests {
    static let goldens = UNetGoldens.root.appendingPathComponent("checkpoints")

    /// Every converted tensor equals the folder form's tensor under the diffusers name, bit for bit,
    /// and no tensor is missing or extra on either side.
    @Test(arguments: ["sd15", "sdxl"])
    func everyTensorEqualsTheFolderForm(name: String) throws {
        let checkpoint = try SingleFileCheckpoint(contentsOf: Self.goldens.appendingPathComponent("\(name).safetensors"))
        #expect(checkpoint.family == (name == "sdxl" ? .stableDiffusionXL : .stableDiffusion15))
        for component in checkpoint.components {
            let view = try checkpoint.weights(component)
            let folder = Self.goldens.appendingPathComponent(name).appendingPathComponent(component.rawValue)
            let file = try TensorFiles.open(WeightFile.transformers.exists(in: folder)
                ? WeightFile.transformers.locate(in: folder) : WeightFile.diffusers.locate(in: folder))
            let prefixed = component == .textEncoder && !(file.names.first?.hasPrefix("text_model.") ?? true)
            let expected = Set(file.names.map { prefixed ? "text_model." + $0 : $0 })
            #expect(!expected.isEmpty && Set(view.names) == expected, "\(name) \(component)")
            for stored in file.names {
                let converted = prefixed ? "text_model." + stored : stored
                let got = try view.withElements(converted) { Array($0) }
                let want = try file.withElements(stored) { Array($0) }
                #expect(view.info(converted)?.shape == file.info(stored)?.shape, "\(name) \(component) \(converted)")
                #expect(got == want, "\(name) \(component) \(converted)")
            }
        }
    }
}

/// Models built from single files: the same outputs as from the folder, and configs inferred from
/// the keys equal to the folder's wherever the tensors determine them.
struct SingleFileModelTests {
    static let goldens = SingleFileCheckpointTests.goldens

    private func values(_ shape: [Int], _ seed: Int) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(($0 * 7 + seed) % 13) / 13 - 0.5 })
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    /// Same weights, same configs, same code: the outputs are identical, bit for bit.
    @Test(arguments: ["sd15", "sdxl"])
    func modelsMatchTheFolderForm(name: String) throws {
        let folder = Self.goldens.appendingPathComponent(name)
        let checkpoint = try SingleFileCheckpoint(contentsOf: Self.goldens.appendingPathComponent("\(name).safetensors"))
        let unet = try checkpoint.loadUNet(configFolder: folder)
        let reference = try UNet2DConditionModel(folder: folder.appendingPathComponent("unet"))
        let xl = checkpoint.family == .stableDiffusionXL
        let sample = values([1, 8, 8, 4], 1), context = values([1, 3, xl ? 16 : 8], 2)
        let added = xl ? SDXLAddedConditions(textEmbeds: values([1, 8], 3), timeIds: values([1, 6], 4)) : nil
        #expect(bits(try unet(sample, timesteps: [10], encoderHiddenStates: context, addedConditions: added))
            == bits(try reference(sample, timesteps: [10], encoderHiddenStates: context, addedConditions: added)))
        let latents = values([1, 4, 4, 4], 5)
        #expect(bits(try checkpoint.loadVAE(configFolder: folder).decode(latents))
            == bits(try AutoencoderKL(folder: folder.appendingPathComponent("vae")).decode(latents)))
        let ids: [[Int32]] = [[0, 5, 17, 999, 2, 2, 2]]
        #expect(bits(try checkpoint.loadTextEncoder(configFolder: folder)(ids).lastHiddenState)
            == bits(try CLIPTextModel(directory: folder.appendingPathComponent("text_encoder"))(ids).lastHiddenState))
        if xl {
            #expect(bits(try checkpoint.loadTextEncoder2(configFolder: folder)(ids).textEmbeds)
                == bits(try CLIPTextModelWithProjection(directory: folder.appendingPathComponent("text_encoder_2"))(ids).textEmbeds))
        }
    }

    /// What the tensors say (channels, levels, layers, block types, attention widths, text encoder
    /// sizes) equals the folder's config; heads, norm groups and sample sizes are the family's standard.
    @Test(arguments: ["sd15", "sdxl"])
    func inferredConfigsMatchTheFolder(name: String) throws {
        let folder = Self.goldens.appendingPathComponent(name)
        let checkpoint = try SingleFileCheckpoint(contentsOf: Self.goldens.appendingPathComponent("\(name).safetensors"))
        let unet = try checkpoint.unetConfig()
        let want = try UNet2DConditionConfig.load(contentsOf: folder.appendingPathComponent("unet/config.json"))
        let levels = want.blockOutChannels.count
        #expect(unet.blockOutChannels == want.blockOutChannels && unet.downBlockTypes == want.downBlockTypes)
        #expect(unet.upBlockTypes == want.upBlockTypes && unet.inChannels == want.inChannels && unet.outChannels == want.outChannels)
        #expect(try unet.layersPerBlock.values(count: levels, field: "") == want.layersPerBlock.values(count: levels, field: ""))
        #expect(try unet.crossAttentionDim.values(count: levels, field: "") == want.crossAttentionDim.values(count: levels, field: ""))
        #expect(unet.useLinearProjection == want.useLinearProjection && unet.additionEmbedType == want.additionEmbedType)
        #expect(unet.projectionClassEmbeddingsInputDim == want.projectionClassEmbeddingsInputDim)
        #expect(unet.additionTimeEmbedDim == want.additionTimeEmbedDim)
        // A block without attention has no transformer depth to read; only the attention blocks' count.
        for (index, type) in want.downBlockTypes.enumerated() where type.hasPrefix("CrossAttn") {
            #expect(try unet.transformerLayersPerBlock.values(count: levels, field: "")[index]
                == want.transformerLayersPerBlock.values(count: levels, field: "")[index])
        }
        let vae = try checkpoint.vaeConfig()
        let wantVAE = try AutoencoderKLConfig.load(contentsOf: folder.appendingPathComponent("vae/config.json"))
        #expect(vae.blockOutChannels == wantVAE.blockOutChannels && vae.layersPerBlock == wantVAE.layersPerBlock)
        #expect(vae.latentChannels == wantVAE.latentChannels && vae.inChannels == wantVAE.inChannels)
        #expect(vae.outChannels == wantVAE.outChannels && vae.scalingFactor == wantVAE.scalingFactor)
        for component in checkpoint.components where component != .unet && component != .vae {
            let text = try checkpoint.textEncoderConfig(component)
            let wantText = try CLIPTextConfig.load(contentsOf: folder.appendingPathComponent("\(component.rawValue)/config.json"))
            #expect(text.vocabSize == wantText.vocabSize && text.hiddenSize == wantText.hiddenSize, "\(component)")
            #expect(text.numHiddenLayers == wantText.numHiddenLayers && text.intermediateSize == wantText.intermediateSize)
            #expect(text.maxPositionEmbeddings == wantText.maxPositionEmbeddings && text.hiddenAct == wantText.hiddenAct)
            if component == .textEncoder2 { #expect(text.projectionDim == wantText.projectionDim) }
        }
    }

    /// lllyasviel's pickled form: every tensor equals the folder's, the model loads with the folder's
    /// config and computes the same residuals, and the inferred config agrees where the tensors say.
    @Test func pickledControlNetMatchesTheFolderForm() throws {
        let folder = Self.goldens.appendingPathComponent("controlnet")
        let url = Self.goldens.appendingPathComponent("control_sd15.pth")
        let view = try SingleFileControlNet.weights(try TensorFiles.open(url))
        let file = try TensorFiles.open(WeightFile.diffusers.locate(in: folder))
        #expect(!file.names.isEmpty && view.names == file.names)
        for name in file.names {
            #expect(try view.withElements(name) { Array($0) } == file.withElements(name) { Array($0) }, "\(name)")
        }
        let inferred = try SingleFileControlNet.config(view)
        let want = try ControlNetConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        #expect(inferred.conditioningEmbeddingOutChannels == want.conditioningEmbeddingOutChannels)
        #expect(inferred.conditioningChannels == want.conditioningChannels)
        #expect(inferred.unet.blockOutChannels == want.unet.blockOutChannels && inferred.unet.downBlockTypes == want.unet.downBlockTypes)
        let model = try SingleFileControlNet.load(contentsOf: url, configFolder: folder)
        let reference = try ControlNetModel(folder: folder)
        let sample = values([1, 8, 8, 4], 1), context = values([1, 3, 8], 2), image = values([1, 64, 64, 3], 3)
        let got = try model(sample, timesteps: [5], encoderHiddenStates: context, controlImage: image, conditioningScale: 1)
        let expected = try reference(sample, timesteps: [5], encoderHiddenStates: context, controlImage: image, conditioningScale: 1)
        #expect(bits(got.mid) == bits(expected.mid) && got.down.map(bits) == expected.down.map(bits))
    }
}

/// Loading stays strict through the key maps, and files of other families are named as such.
struct SingleFileErrorTests {
    /// sd15.safetensors rewritten with `edit` applied to its tensors (as float32).
    private func rewritten(_ edit: (inout [(name: String, tensor: Tensor)]) -> Void) throws -> URL {
        let source = try SafeTensorsFile(contentsOf: SingleFileCheckpointTests.goldens.appendingPathComponent("sd15.safetensors"))
        var tensors = try source.names.map { (name: $0, tensor: try source.tensor(named: $0)) }
        edit(&tensors)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("single-\(UUID().uuidString).safetensors")
        try SafeTensors.write(tensors, to: url)
        return url
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test func unknownKeyIsAnErrorNamingIt() throws {
        let url = try rewritten { $0.append((name: "model.diffusion_model.input_blocks.1.0.extra.weight", tensor: Tensor(shape: [2]))) }
        defer { try? FileManager.default.removeItem(at: url) }
        let folder = SingleFileCheckpointTests.goldens.appendingPathComponent("sd15")
        let text = message { _ = try SingleFileCheckpoint(contentsOf: url).loadUNet(configFolder: folder) }
        #expect(text.contains("unexpected") && text.contains("extra.weight"), "\(text)")
    }

    @Test func missingKeyIsAnErrorNamingIt() throws {
        let url = try rewritten { $0.removeAll { $0.name == "model.diffusion_model.out.2.bias" } }
        defer { try? FileManager.default.removeItem(at: url) }
        let folder = SingleFileCheckpointTests.goldens.appendingPathComponent("sd15")
        let text = message { _ = try SingleFileCheckpoint(contentsOf: url).loadUNet(configFolder: folder) }
        #expect(text.contains("missing weight 'conv_out.bias'"), "\(text)")
    }

    @Test func otherFamiliesAreNamed() throws {
        let sd2 = try rewritten { tensors in
            tensors = tensors.map { entry in
                (entry.name.replacingOccurrences(of: "cond_stage_model.transformer.", with: "cond_stage_model.model."), entry.tensor)
            }
        }
        defer { try? FileManager.default.removeItem(at: sd2) }
        #expect(message { _ = try SingleFileCheckpoint(contentsOf: sd2) }.contains("Stable Diffusion 2"))
        let vaeOnly = try rewritten { $0.removeAll { !$0.name.hasPrefix("first_stage_model.") } }
        defer { try? FileManager.default.removeItem(at: vaeOnly) }
        let text = message { _ = try SingleFileCheckpoint(contentsOf: vaeOnly) }
        #expect(text.contains("no 'model.diffusion_model.*' keys") && text.contains("first_stage_model.decoder"), "\(text)")
    }
}
