import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// ControlNetModel against diffusers (Tests/Goldens/controlnet/generate.py) on the tiny ControlNets
/// of the default models directory (SD1.5) and of the SDXL test models: the residuals of one
/// ControlNet, and the UNet's prediction with two ControlNets' residuals summed.
@Suite struct ControlNetTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let golden = try! SafeTensorsFile(contentsOf: root.appendingPathComponent("Tests/Goldens/controlnet/controlnet.safetensors"))
    static let families: [(name: String, models: String, modelId: String, family: String)] = [
        ("sd15", "Tests/Fixtures/Weights", "tiny-sd15", "sd-1_5"),
        ("sdxl", "Tests/Goldens/pipeline/models", "tiny-sdxl", "sd-xl"),
    ]

    func tensor(_ name: String, nchw: Bool = false) throws -> Tensor {
        let t = try Self.golden.tensor(named: name)
        return nchw ? t.nchwToNHWC() : t
    }

    func controlNet(_ models: String, _ family: String, _ modality: String) throws -> ControlNetModel {
        try ControlNetModel(folder: Self.root.appendingPathComponent("\(models)/controlnets/\(family)/\(modality)"))
    }

    func added(_ name: String) throws -> SDXLAddedConditions? {
        guard Self.golden.names.contains("\(name).text_embeds") else { return nil }
        return SDXLAddedConditions(textEmbeds: try tensor("\(name).text_embeds"), timeIds: try tensor("\(name).time_ids"))
    }

    // 1e-4 relative to the output's scale: float32 convolutions and attention summed in another
    // order than PyTorch's, through a dozen layers.
    @Test(arguments: families) func residualsMatchDiffusers(_ f: (name: String, models: String, modelId: String, family: String)) throws {
        let net = try controlNet(f.models, f.family, "canny")
        let residuals = try net(
            try tensor("\(f.name).sample", nchw: true), timesteps: [537], encoderHiddenStates: try tensor("\(f.name).context"),
            controlImage: try tensor("\(f.name).image", nchw: true), conditioningScale: 0.7, addedConditions: try added(f.name))
        #expect(residuals.down.count == 6)
        for (i, down) in residuals.down.enumerated() {
            UNetGoldens.expectClose(down, try tensor("\(f.name).first.down.\(i)", nchw: true), "\(f.name) down \(i)")
        }
        UNetGoldens.expectClose(residuals.mid, try tensor("\(f.name).first.mid", nchw: true), "\(f.name) mid")
    }

    @Test(arguments: families) func twoControlNetsSteerTheUNetAsDiffusers(_ f: (name: String, models: String, modelId: String, family: String)) throws {
        let unet = try UNet2DConditionModel(folder: Self.root.appendingPathComponent("\(f.models)/\(f.modelId)/unet"))
        let sample = try tensor("\(f.name).sample", nchw: true), context = try tensor("\(f.name).context")
        let image = try tensor("\(f.name).image", nchw: true)
        let parts = try zip(["canny", "depth"], [Float(0.7), 0.4]).map { modality, scale in
            try controlNet(f.models, f.family, modality)(
                sample, timesteps: [537], encoderHiddenStates: context, controlImage: image, conditioningScale: scale,
                addedConditions: try added(f.name))
        }
        let prediction = try unet(
            sample, timesteps: [537], encoderHiddenStates: context, addedConditions: try added(f.name),
            controlNetResiduals: ControlNetResiduals.sum(parts))
        UNetGoldens.expectClose(prediction, try tensor("\(f.name).unet_with_both", nchw: true), f.name)
    }

    @Test func aControlImageOfTheWrongSizeIsAnError() throws {
        let net = try controlNet("Tests/Fixtures/Weights", "sd-1_5", "canny")
        #expect(throws: ModelInputError.self) {
            try net(Tensor(shape: [1, 8, 8, 4]), timesteps: [1], encoderHiddenStates: Tensor(shape: [1, 77, 32]),
                    controlImage: Tensor(shape: [1, 32, 32, 3]), conditioningScale: 1)
        }
    }

    @Test func aControlNetForAnotherUNetNamesItsConfigAndTheDimension() throws {
        let sd15 = try UNet2DConditionModel(folder: Self.root.appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15/unet"))
        let folder = Self.root.appendingPathComponent("Tests/Goldens/pipeline/models/controlnets/sd-xl/canny")
        try controlNet("Tests/Fixtures/Weights", "sd-1_5", "canny").checkFits(sd15, folder: folder)
        #expect { try ControlNetModel(folder: folder).checkFits(sd15, folder: folder) } throws: {
            "\($0)".contains("sd-xl/canny/config.json") && "\($0)".contains("cross_attention_dim")
        }
    }

    @Test func anUnsupportedConfigOptionIsNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("controlnet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Self.root.appendingPathComponent("Tests/Fixtures/Weights/controlnets/sd-1_5/canny/config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
        config["global_pool_conditions"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        #expect { try ControlNetConfig.load(contentsOf: folder.appendingPathComponent("config.json")) } throws: {
            "\($0)".contains("global_pool_conditions")
        }
    }
}
