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
    static let adapters = root.appendingPathComponent("Tests/Fixtures/Weights/ip-adapters/sd-1_5")

    func tensor(_ name: String, nchw: Bool = false) throws -> Tensor {
        let t = try Self.golden.tensor(named: name)
        return nchw ? t.nchwToNHWC() : t
    }

    func unet() throws -> UNet2DConditionModel {
        try UNet2DConditionModel(folder: Self.root.appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15/unet"))
    }

    // 1e-4 relative: three float32 transformer layers and a projection, summed in other orders than PyTorch.
    @Test(arguments: ["style", "character"]) func imageEncoderMatchesTransformers(_ kind: String) throws {
        let encoder = try CLIPVisionModelWithProjection(directory: Self.adapters.appendingPathComponent("\(kind)/image_encoder"))
        let output = try encoder(try tensor("pixels", nchw: true))
        UNetGoldens.expectClose(output.imageEmbeds, try tensor("\(kind).image_embeds"), "\(kind) image embeds")
        UNetGoldens.expectClose(output.penultimateHiddenStates, try tensor("\(kind).penultimate"), "\(kind) hidden_states[-2]")
    }

    /// Two instances of the base adapter with different scales, as diffusers loads it once per
    /// reference image, and one Plus adapter; the second base instance gets the features of the
    /// batch reversed, so the two images differ.
    static let scenarios: [(name: String, kinds: [String], scales: [Float])] = [
        ("two_style", ["style", "style"], [0.9, 0.35]), ("character", ["character"], [0.6]),
    ]

    /// Loads the adapters of `scenario` from `folder` for `unet` and returns their tokens for the golden pixels.
    func attachAdapters(
        _ scenario: (name: String, kinds: [String], scales: [Float]), from folder: URL, to unet: UNet2DConditionModel
    ) throws -> [IPAdapterTokens] {
        let adapters = try scenario.kinds.map { try IPAdapter(folder: folder.appendingPathComponent($0), unet: unet) }
        let pixels = try tensor("pixels", nchw: true)
        return try adapters.enumerated().map { i, adapter in
            let encoded = try adapter.imageEncoder(pixels)
            var features = adapter.imageProjection.isPlus ? encoded.penultimateHiddenStates : encoded.imageEmbeds
            if i == 1 { features = Tensor.concatenate(features.chunked(2, axis: 0).reversed(), axis: 0) }
            return IPAdapterTokens(tokens: adapter.imageProjection(features), scale: scenario.scales[i], layers: adapter.layers)
        }
    }

    /// The tiny SD1.5 UNet, whose block order (down, up, mid) makes a wrong numbering of
    /// `ip_adapter.<id>` visible.
    @Test(arguments: scenarios)
    func unetWithAdaptersMatchesDiffusers(_ c: (name: String, kinds: [String], scales: [Float])) throws {
        let unet = try unet()
        let tokens = try attachAdapters(c, from: Self.adapters, to: unet)
        let prediction = try unet(
            try tensor("sample", nchw: true), timesteps: [451], encoderHiddenStates: try tensor("context"), ipAdapterTokens: tokens)
        UNetGoldens.expectClose(prediction, try tensor("\(c.name).prediction", nchw: true), c.name)
    }

    /// The same on the tiny SDXL UNet (text_time embedding, linear projections, two transformer
    /// layers in a block) with its own adapters and image encoders.
    @Test(arguments: scenarios)
    func sdxlUNetWithAdaptersMatchesDiffusers(_ c: (name: String, kinds: [String], scales: [Float])) throws {
        let models = Self.root.appendingPathComponent("Tests/Goldens/pipeline/models")
        let unet = try UNet2DConditionModel(folder: models.appendingPathComponent("tiny-sdxl/unet"))
        let tokens = try attachAdapters(c, from: models.appendingPathComponent("ip-adapters/sd-xl"), to: unet)
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
