import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// Whole-UNet outputs against diffusers' UNet2DConditionModel on the tiny configs of
/// Tests/Goldens/unet/generate.py.
@Suite struct UNetGoldenTests {
    static let configs = ["sd15_two_level", "sdxl_three_level", "sd_three_level_odd"]

    struct Case {
        let model: UNet2DConditionModel
        let io: UNetGoldens.IO
        let sample: Tensor
        let timesteps: [Float]
        let context: Tensor
        let added: SDXLAddedConditions?

        init(_ name: String) throws {
            let folder = UNetGoldens.folder("unet", name)
            model = try UNet2DConditionModel(folder: folder)
            io = try UNetGoldens.IO(folder)
            sample = try io.image("sample")
            timesteps = try io.tensor("timesteps").scalars
            context = try io.tensor("encoder_hidden_states")
            added = io.contains("text_embeds")
                ? SDXLAddedConditions(textEmbeds: try io.tensor("text_embeds"), timeIds: try io.tensor("time_ids")) : nil
        }

        func run(controlNet: ControlNetResiduals? = nil, ipAdapterTokens: [IPAdapterTokens] = []) throws -> Tensor {
            try model(
                sample, timesteps: timesteps, encoderHiddenStates: context, addedConditions: added,
                controlNetResiduals: controlNet, ipAdapterTokens: ipAdapterTokens)
        }
    }

    @Test(arguments: configs)
    func matchesDiffusers(_ name: String) throws {
        let c = try Case(name)
        UNetGoldens.expectClose(try c.run(), try c.io.image("out"), "\(name) output")
    }

    @Test(arguments: ["sd15_two_level", "sd_three_level_odd"])
    func addsControlNetResiduals(_ name: String) throws {
        let c = try Case(name)
        var down: [Tensor] = []
        while c.io.contains("down_residual.\(down.count)") {
            down.append(try c.io.image("down_residual.\(down.count)"))
        }
        let residuals = ControlNetResiduals(down: down, mid: try c.io.image("mid_residual"))
        UNetGoldens.expectClose(try c.run(controlNet: residuals), try c.io.image("out_controlnet"), "\(name) with residuals")
    }

    @Test func listsCrossAttentionLayersInDiffusersOrder() throws {
        for name in Self.configs {
            let folder = UNetGoldens.folder("unet", name)
            let model = try UNet2DConditionModel(folder: folder)
            let names = try JSONDecoder().decode(
                [String].self, from: Data(contentsOf: folder.appendingPathComponent("cross_attention_layers.json")))
            #expect(model.crossAttentionLayers.map(\.name) == names, "\(name)")
        }
    }
}
