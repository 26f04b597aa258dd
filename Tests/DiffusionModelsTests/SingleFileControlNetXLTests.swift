import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// A tiny SDXL ControlNet as published single files (Tests/Goldens/checkpoints/generate_controlnet_xl.py):
/// a diffusers-keyed file of its own name with no config (diffusers' `from_single_file` reads it
/// into the folder's tensors) and the original `control_model.*` layout with SDXL's `label_emb`.
struct SingleFileControlNetXLTests {
    static let goldens = SingleFileCheckpointTests.goldens
    static let folder = goldens.appendingPathComponent("controlnet_xl")

    private func values(_ shape: [Int], _ seed: Int) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(($0 * 7 + seed) % 13) / 13 - 0.5 })
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    /// Every tensor equals the folder's bit for bit; the config inferred from the keys agrees with
    /// the folder's wherever the tensors determine it; with the folder's config (the tiny model's
    /// added time embedding width, 4, is not in its tensors) the residuals are the folder model's.
    @Test(arguments: ["controlnet_xl_single/controlnet-xl-tiny.safetensors", "control_xl_ldm.safetensors"])
    func matchesTheFolderForm(_ path: String) throws {
        let url = Self.goldens.appendingPathComponent(path)
        let view = try SingleFileControlNet.weights(try TensorFiles.open(url))
        let file = try TensorFiles.open(WeightFile.diffusers.locate(in: Self.folder))
        #expect(!file.names.isEmpty && view.names == file.names)
        for name in file.names {
            #expect(try view.withElements(name) { Array($0) } == file.withElements(name) { Array($0) }, "\(name)")
        }
        let inferred = try SingleFileControlNet.config(view)
        let want = try ControlNetConfig.load(contentsOf: Self.folder.appendingPathComponent("config.json"))
        #expect(inferred.conditioningEmbeddingOutChannels == want.conditioningEmbeddingOutChannels)
        #expect(inferred.conditioningChannels == want.conditioningChannels)
        #expect(inferred.unet.blockOutChannels == want.unet.blockOutChannels && inferred.unet.downBlockTypes == want.unet.downBlockTypes)
        #expect(inferred.unet.additionEmbedType == "text_time")
        #expect(inferred.unet.projectionClassEmbeddingsInputDim == want.unet.projectionClassEmbeddingsInputDim)

        let model = try SingleFileControlNet.load(contentsOf: url, configFolder: Self.folder)
        let reference = try ControlNetModel(folder: Self.folder)
        let sample = values([1, 8, 8, 4], 1), context = values([1, 3, 16], 2), image = values([1, 64, 64, 3], 3)
        let added = SDXLAddedConditions(textEmbeds: values([1, 8], 4), timeIds: values([1, 6], 5))
        let got = try model(sample, timesteps: [5], encoderHiddenStates: context, controlImage: image, conditioningScale: 1,
                            addedConditions: added)
        let expected = try reference(sample, timesteps: [5], encoderHiddenStates: context, controlImage: image, conditioningScale: 1,
                                     addedConditions: added)
        #expect(bits(got.mid) == bits(expected.mid) && got.down.map(bits) == expected.down.map(bits))
    }
}
