import DiffusionFormats
import Foundation

/// The components as models. `configFolder` is a diffusers pipeline folder beside the file
/// (`unet/config.json`, `vae/config.json`, `text_encoder/config.json`, ..., no weights), as
/// `from_single_file(config=...)` reads it: a component's config there wins over the inferred one
/// (a fine-tune with other head counts, a tiny test model).
extension SingleFileCheckpoint {
    /// The UNet, with `patches` (LoRA) merged into the weights they change.
    public func loadUNet(configFolder: URL? = nil, patches: WeightPatches = .none) throws -> UNet2DConditionModel {
        let config = try Self.folderConfig(configFolder, .unet, UNet2DConditionConfig.load) ?? unetConfig()
        let store = WeightStore(file: try weights(.unet), patches: patches)
        let model = try UNet2DConditionModel(config: config, weights: store)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: url.lastPathComponent)
        return model
    }

    public func loadVAE(configFolder: URL? = nil) throws -> AutoencoderKL {
        let config = try Self.folderConfig(configFolder, .vae, AutoencoderKLConfig.load) ?? vaeConfig()
        let store = WeightStore(file: try weights(.vae))
        let model = try AutoencoderKL(config: config, weights: store)
        try store.checkAllUsed()
        return model
    }

    /// The CLIP ViT-L text encoder (`text_encoder`), for both families.
    public func loadTextEncoder(configFolder: URL? = nil, patches: WeightPatches = .none) throws -> CLIPTextModel {
        let config = try Self.folderConfig(configFolder, .textEncoder, CLIPTextConfig.load) ?? textEncoderConfig(.textEncoder)
        return try CLIPTextModel(config: config, file: try weights(.textEncoder), patches: patches, name: url.lastPathComponent)
    }

    /// SDXL's OpenCLIP ViT-bigG text encoder (`text_encoder_2`).
    public func loadTextEncoder2(configFolder: URL? = nil, patches: WeightPatches = .none) throws -> CLIPTextModelWithProjection {
        let config = try Self.folderConfig(configFolder, .textEncoder2, CLIPTextConfig.load) ?? textEncoderConfig(.textEncoder2)
        return try CLIPTextModelWithProjection(
            config: config, file: try weights(.textEncoder2), patches: patches, name: url.lastPathComponent)
    }

    /// `<folder>/<component>/config.json` read by `load`, or nil when there is no such file.
    static func folderConfig<Config>(
        _ folder: URL?, _ component: Component, _ load: (_ contentsOf: URL) throws -> Config
    ) throws -> Config? {
        guard let url = folder?.appendingPathComponent(component.rawValue).appendingPathComponent("config.json"),
              FileManager.default.fileExists(atPath: url.path)
        else { return nil }
        return try load(url)
    }
}
