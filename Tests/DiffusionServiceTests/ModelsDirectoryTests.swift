import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `ModelsDirectory`: safe model ids, the family from model_index.json, and the ControlNet
/// and IP-Adapter folders (Docs/SPEC.md §1).
@Suite struct ModelsDirectoryTests {
    @Test(arguments: ["", ".", "..", "../sd15", "sd15/..", "sd15/../sd15", "a/b", "/etc", "a\\b", "..\\sd15",
                      ".hidden", ".sd15", "sd15..", "x\u{0}y"])
    func unsafeModelIdsAre400(_ id: String) throws {
        let environment = try TestEnvironment.shared()
        let failure = error { try environment.models.model(id) }
        #expect(failure?.status == 400 && failure?.field == "modelId", "\(id)")
    }

    /// The id is refused before any file is touched: even a models directory that does not
    /// exist gives 400, not 404.
    @Test func unsafeIdIsRefusedBeforeTheFileSystem() {
        let models = ModelsDirectory(url: URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)"))
        #expect(error { try models.model("../etc") }?.status == 400)
        #expect(error { try models.model("sd15") }?.status == 404)
    }

    /// A request whose model id escapes the folder fails in the resolution too.
    @Test func traversalInARequestIs400() throws {
        let environment = try TestEnvironment()
        try environment.folder.write("{}", at: "outside/model_index.json")
        let failure = error { try environment.resolve(adding: "", model: "../outside") }
        #expect(failure?.status == 400 && failure?.field == "modelId")
    }

    @Test func missingModelIs404() throws {
        let environment = try TestEnvironment.shared()
        let failure = error { try environment.models.model("sd-2") }
        #expect(failure?.status == 404 && failure?.field == "modelId")
        // Folders that are no pipeline (no model_index.json) are not models either.
        #expect(error { try environment.models.model("controlnets") }?.status == 404)
    }

    @Test(arguments: [
        ("StableDiffusionPipeline", ModelFamily.sd15), ("StableDiffusionControlNetPipeline", .sd15),
        ("StableDiffusionXLPipeline", .sdxl), ("StableDiffusionXLControlNetPipeline", .sdxl),
    ])
    func familyFromModelIndex(_ className: String, _ family: ModelFamily) throws {
        let environment = try TestEnvironment()
        try TestEnvironment.writeModel("m", className: className, scheduler: "DDIMScheduler", family: family,
                                       in: environment.folder)
        let model = try environment.models.model("m")
        #expect(model.family == family)
        #expect(model.schedulerConfig.className == "DDIMScheduler")
        #expect(model.unet.lastPathComponent == "unet" && model.tokenizer.lastPathComponent == "tokenizer")
        #expect((model.tokenizer2 != nil) == (family == .sdxl))
    }

    @Test func unsupportedPipelineIs400() throws {
        let environment = try TestEnvironment()
        try TestEnvironment.writeModel("sd3", className: "StableDiffusion3Pipeline", scheduler: "DDIMScheduler",
                                       family: .sd15, in: environment.folder)
        let failure = error { try environment.models.model("sd3") }
        #expect(failure?.status == 400 && failure?.message.contains("StableDiffusion3Pipeline") == true)
    }

    @Test(arguments: [(#", "force_zeros_for_empty_prompt": false"#, false), (#", "force_zeros_for_empty_prompt": true"#, true), ("", true)])
    func forceZerosForEmptyPrompt(_ extraIndex: String, _ expected: Bool) throws {
        let environment = try TestEnvironment()
        try TestEnvironment.writeModel("xl", className: "StableDiffusionXLPipeline", scheduler: "EulerDiscreteScheduler",
                                       family: .sdxl, extraIndex: extraIndex, in: environment.folder)
        #expect(try environment.models.model("xl").forceZerosForEmptyPrompt == expected)
    }

    @Test(arguments: ["unet/diffusion_pytorch_model.safetensors", "vae/config.json", "text_encoder/model.safetensors",
                      "tokenizer/merges.txt", "scheduler/scheduler_config.json"])
    func incompleteModelIs500NamingTheFile(_ path: String) throws {
        let environment = try TestEnvironment()
        try environment.folder.remove("models/sd15/\(path)")
        let failure = error { try environment.models.model("sd15") }
        #expect(failure?.status == 500 && failure?.message.contains(path) == true)
    }

    @Test func sdxlNeedsItsSecondTextEncoder() throws {
        let environment = try TestEnvironment()
        try environment.folder.remove("models/sdxl/text_encoder_2/model.safetensors")
        #expect(error { try environment.models.model("sdxl") }?.status == 500)
    }

    @Test func malformedModelIndexIs500() throws {
        let environment = try TestEnvironment()
        try environment.folder.write("{not json", at: "models/sd15/model_index.json")
        let failure = error { try environment.models.model("sd15") }
        #expect(failure?.status == 500 && failure?.message.contains("model_index.json") == true)
    }

    @Test func schedulerDefaultMustBeSupported() throws {
        let environment = try TestEnvironment()
        try environment.folder.write(#"{"_class_name": "FlowMatchEulerDiscreteScheduler"}"#,
                                     at: "models/sd15/scheduler/scheduler_config.json")
        #expect(error { try environment.resolve(body()) }?.status == 500)
        #expect(try environment.resolve(adding: #""scheduler": "DDIMScheduler""#).scheduler == .ddim)
    }

    @Test func controlNetFolders() throws {
        let environment = try TestEnvironment()
        let folder = try environment.models.controlNet(modality: "depth", family: .sdxl)
        #expect(folder.path.hasSuffix("controlnets/sd-xl/depth"))
        let missing = error { try environment.models.controlNet(modality: "seg", family: .sdxl) }
        #expect(missing?.status == 404 && missing?.field == "modality")
        #expect(missing?.message.contains("'seg'") == true && missing?.message.contains("sd-xl") == true)
        try environment.folder.remove("models/controlnets/sd-xl/depth/diffusion_pytorch_model.safetensors")
        #expect(error { try environment.models.controlNet(modality: "depth", family: .sdxl) }?.status == 500)
    }

    @Test func ipAdapterFolders() throws {
        let environment = try TestEnvironment()
        let adapter = try environment.models.ipAdapter(type: .character, family: .sd15)
        #expect(PublishedFiles.ipAdapterWeights(in: adapter.url)?.path.hasSuffix("ip-adapters/sd-1_5/character/ip-adapter.safetensors") == true)
        #expect(PublishedFiles.ipAdapterImageEncoder(for: adapter.url).path.hasSuffix("ip-adapters/sd-1_5/character/image_encoder"))

        try environment.folder.remove("models/ip-adapters/sd-xl/character")
        let missing = error { try environment.resolve(adding: #""ipAdapterType": "character""#, model: "sdxl") }
        #expect(missing?.status == 404 && missing?.field == "ipAdapterType")
        #expect(missing?.message.contains("character") == true && missing?.message.contains("sd-xl") == true)

        try environment.folder.remove("models/ip-adapters/sd-1_5/style/image_encoder/model.safetensors")
        let incomplete = error { try environment.models.ipAdapter(type: .style, family: .sd15) }
        #expect(incomplete?.status == 500 && incomplete?.message.contains("image_encoder/model.safetensors") == true)
    }

    /// Files as published: an adapter under its own name with the family's shared image encoder,
    /// and a ControlNet as one downloaded file.
    @Test func publishedFileNames() throws {
        let environment = try TestEnvironment()
        let family = "models/ip-adapters/sd-1_5"
        try FileManager.default.moveItem(
            at: environment.folder.url.appendingPathComponent("\(family)/style/image_encoder"),
            to: environment.folder.url.appendingPathComponent("\(family)/image_encoder"))
        try FileManager.default.moveItem(
            at: environment.folder.url.appendingPathComponent("\(family)/style/ip-adapter.safetensors"),
            to: environment.folder.url.appendingPathComponent("\(family)/style/ip-adapter_sd15.safetensors"))
        let adapter = try environment.models.ipAdapter(type: .style, family: .sd15)
        #expect(PublishedFiles.ipAdapterWeights(in: adapter.url)?.lastPathComponent == "ip-adapter_sd15.safetensors")
        #expect(PublishedFiles.ipAdapterImageEncoder(for: adapter.url).path.hasSuffix("ip-adapters/sd-1_5/image_encoder"))

        let canny = "models/controlnets/sd-1_5/canny"
        try environment.folder.remove("\(canny)/config.json")
        try environment.folder.remove("\(canny)/diffusion_pytorch_model.safetensors")
        try environment.folder.write("{}", at: "\(canny)/control_v11p_sd15_canny.pth")
        let folder = try environment.models.controlNet(modality: "canny", family: .sd15)
        #expect(PublishedFiles.controlNetCheckpoint(in: folder)?.lastPathComponent == "control_v11p_sd15_canny.pth")
    }
}
