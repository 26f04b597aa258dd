import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// diffusers' distilled SDXL ControlNets, "mid" (transformer_layers_per_block [0, 0, 1]: a second
/// level whose Transformer2DModel has no block) and "small" (no attention in the down blocks, a mid
/// block whose transformer has no block), as tiny random models of the same shape
/// (Tests/Goldens/controlnet/variants.py), against diffusers' residuals; the published full-size
/// configs load; the single files load as the folders.
@Suite struct ControlNetVariantTests {
    static let variants = ControlNetTests.root.appendingPathComponent("Tests/Goldens/controlnet/variants")
    static let names = ["mid", "small"]

    static func golden() throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: variants.appendingPathComponent("residuals.safetensors"))
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    private func run(_ net: ControlNetModel, _ golden: SafeTensorsFile) throws -> ControlNetResiduals {
        let added = SDXLAddedConditions(
            textEmbeds: try golden.tensor(named: "input.text_embeds"), timeIds: try golden.tensor(named: "input.time_ids"))
        return try net(
            try golden.tensor(named: "input.sample").nchwToNHWC(), timesteps: [537],
            encoderHiddenStates: try golden.tensor(named: "input.context"),
            controlImage: try golden.tensor(named: "input.image").nchwToNHWC(), conditioningScale: 0.7, addedConditions: added)
    }

    /// Within the model goldens' 1e-4 of the output's scale (UNetGoldens.tolerance): float32 on both
    /// sides, summed in another order.
    @Test(arguments: names) func residualsMatchDiffusers(_ name: String) throws {
        let golden = try Self.golden()
        let residuals = try run(try ControlNetModel(folder: Self.variants.appendingPathComponent(name)), golden)
        #expect(residuals.down.count == 9)
        for (i, down) in residuals.down.enumerated() {
            UNetGoldens.expectClose(down, try golden.tensor(named: "\(name).down.\(i)").nchwToNHWC(), "\(name) down \(i)")
        }
        UNetGoldens.expectClose(residuals.mid, try golden.tensor(named: "\(name).mid").nchwToNHWC(), "\(name) mid")
    }

    /// The file alone (diffusers' keys, no config): the inferred config has the folder's block types
    /// and transformer depths wherever there is attention (the last level's is the mid block's);
    /// with the folder's config (the tiny added time embedding is not in the tensors) the residuals
    /// are the folder model's bit for bit.
    @Test(arguments: names) func singleFileIsTheFolderModel(_ name: String) throws {
        let folder = Self.variants.appendingPathComponent(name)
        let url = Self.variants.appendingPathComponent("\(name)-single/controlnet-\(name)-tiny.safetensors")
        let inferred = try SingleFileControlNet.config(try SingleFileControlNet.weights(try TensorFiles.open(url))).unet
        let want = try ControlNetConfig.load(contentsOf: folder.appendingPathComponent("config.json")).unet
        #expect(inferred.downBlockTypes == want.downBlockTypes)
        let levels = want.blockOutChannels.count
        let inferredDepths = try inferred.transformerLayersPerBlock.values(count: levels, field: "")
        let wantDepths = try want.transformerLayersPerBlock.values(count: levels, field: "")
        for level in 0..<levels where want.downBlockTypes[level] == "CrossAttnDownBlock2D" || level == levels - 1 {
            #expect(inferredDepths[level] == wantDepths[level], "\(name) level \(level)")
        }
        let golden = try Self.golden()
        let single = try run(try SingleFileControlNet.load(contentsOf: url, configFolder: folder), golden)
        let reference = try run(try ControlNetModel(folder: folder), golden)
        #expect(bits(single.mid) == bits(reference.mid) && single.down.map(bits) == reference.down.map(bits))
    }

    /// The published configs (full size, written by diffusers in variants.py, where their parameter
    /// counts are checked against the published files) pass validation with their 0-layer transformers.
    @Test func publishedConfigsLoad() throws {
        let data = try Data(contentsOf: Self.variants.appendingPathComponent("configs.json"))
        let configs = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let want: [String: (types: [String], depths: [Int])] = [
            "mid": (["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], [0, 0, 1]),
            "small": (["DownBlock2D", "DownBlock2D", "DownBlock2D"], [0, 0, 0]),
        ]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("controlnet-variants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in Self.names {
            let file = folder.appendingPathComponent("\(name).json")
            try JSONSerialization.data(withJSONObject: try #require(configs[name])).write(to: file)
            let config = try ControlNetConfig.load(contentsOf: file)
            try config.unet.validate()
            #expect(config.unet.blockOutChannels == [320, 640, 1280] && config.unet.downBlockTypes == want[name]?.types)
            #expect(try config.unet.transformerLayersPerBlock.values(count: 3, field: "") == want[name]?.depths)
        }
    }
}
