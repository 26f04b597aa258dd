import DiffusionCore
import DiffusionFormats
import DiffusionModels
import Foundation
import Testing

/// The image encoders and the UNet with IP-Adapters attached, against transformers and diffusers
/// (Tests/Goldens/ipadapter/generate.py, encoder_and_unet), on the default models directory.
@Suite struct IPAdapterTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let golden = try! SafeTensorsFile(contentsOf: root.appendingPathComponent("Tests/Goldens/ipadapter/encoder_unet.safetensors"))
    static let adapters = root.appendingPathComponent("Weights/ip-adapters/sd-1_5")

    func tensor(_ name: String, nchw: Bool = false) throws -> Tensor {
        let t = try Self.golden.tensor(named: name)
        return nchw ? t.nchwToNHWC() : t
    }

    func unet() throws -> UNet2DConditionModel {
        try UNet2DConditionModel(folder: Self.root.appendingPathComponent("Weights/tiny-sd15/unet"))
    }

    // 1e-4 relative: three float32 transformer layers and a projection, summed in other orders than PyTorch.
    @Test(arguments: ["style", "character"]) func imageEncoderMatchesTransformers(_ kind: String) throws {
        let encoder = try CLIPVisionModelWithProjection(directory: Self.adapters.appendingPathComponent("\(kind)/image_encoder"))
        let output = try encoder(try tensor("pixels", nchw: true))
        UNetGoldens.expectClose(output.imageEmbeds, try tensor("\(kind).image_embeds"), "\(kind) image embeds")
        UNetGoldens.expectClose(output.penultimateHiddenStates, try tensor("\(kind).penultimate"), "\(kind) hidden_states[-2]")
    }

    /// Two instances of the base adapter with different scales and images, as diffusers loads it
    /// once per reference image; and one Plus adapter. The UNet's block order (down, up, mid) makes
    /// a wrong numbering of `ip_adapter.<id>` visible.
    @Test(arguments: [("two_style", ["style", "style"], [Float(0.9), 0.35]), ("character", ["character"], [0.6])])
    func unetWithAdaptersMatchesDiffusers(_ c: (name: String, kinds: [String], scales: [Float])) throws {
        let unet = try unet()
        let adapters = try c.kinds.map { try IPAdapter(folder: Self.adapters.appendingPathComponent($0), unet: unet) }
        unet.attach(adapters)
        let pixels = try tensor("pixels", nchw: true)
        let tokens = try adapters.enumerated().map { i, adapter in
            let encoded = try adapter.imageEncoder(pixels)
            var features = adapter.imageProjection.isPlus ? encoded.penultimateHiddenStates : encoded.imageEmbeds
            if i == 1 { features = Tensor.concatenate(features.chunked(2, axis: 0).reversed(), axis: 0) }
            return IPAdapterTokens(tokens: adapter.imageProjection(features), scale: c.scales[i])
        }
        let prediction = try unet(
            try tensor("sample", nchw: true), timesteps: [451], encoderHiddenStates: try tensor("context"), ipAdapterTokens: tokens)
        UNetGoldens.expectClose(prediction, try tensor("\(c.name).prediction", nchw: true), c.name)
    }

    /// The same on the tiny SDXL UNet (text_time embedding, linear projections, two transformer
    /// layers in a block) with its own adapters and image encoders.
    @Test(arguments: [("two_style", ["style", "style"], [Float(0.9), 0.35]), ("character", ["character"], [0.6])])
    func sdxlUNetWithAdaptersMatchesDiffusers(_ c: (name: String, kinds: [String], scales: [Float])) throws {
        let models = Self.root.appendingPathComponent("Tests/Goldens/pipeline/models")
        let unet = try UNet2DConditionModel(folder: models.appendingPathComponent("tiny-sdxl/unet"))
        let adapters = try c.kinds.map {
            try IPAdapter(folder: models.appendingPathComponent("ip-adapters/sd-xl/\($0)"), unet: unet)
        }
        unet.attach(adapters)
        let pixels = try tensor("pixels", nchw: true)
        let tokens = try adapters.enumerated().map { i, adapter in
            let encoded = try adapter.imageEncoder(pixels)
            var features = adapter.imageProjection.isPlus ? encoded.penultimateHiddenStates : encoded.imageEmbeds
            if i == 1 { features = Tensor.concatenate(features.chunked(2, axis: 0).reversed(), axis: 0) }
            return IPAdapterTokens(tokens: adapter.imageProjection(features), scale: c.scales[i])
        }
        let added = SDXLAddedConditions(textEmbeds: try tensor("sdxl.text_embeds"), timeIds: try tensor("sdxl.time_ids"))
        let prediction = try unet(
            try tensor("sample", nchw: true), timesteps: [451], encoderHiddenStates: try tensor("sdxl.context"),
            addedConditions: added, ipAdapterTokens: tokens)
        UNetGoldens.expectClose(prediction, try tensor("sdxl.\(c.name).prediction", nchw: true), "SDXL \(c.name)")
    }

    @Test func anAdapterForAnotherUNetNamesTheDimension() throws {
        let sdxl = try UNet2DConditionModel(folder: Self.root.appendingPathComponent("Tests/Goldens/pipeline/models/tiny-sdxl/unet"))
        #expect { try IPAdapter(folder: Self.adapters.appendingPathComponent("style"), unet: sdxl) } throws: { error in
            "\(error)".contains("ip-adapter.safetensors") && "\(error)".contains("width")
        }
    }
}
