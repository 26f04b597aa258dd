import DiffusionModels
import Foundation

/// Every model a process has loaded, by folder, so that each is read once and reused across
/// requests (issue: "load each model once and reuse it across requests in one process").
///
/// Thread-safe; a model is loaded on first use under the lock, so two requests never load it twice.
public final class ModelCache: @unchecked Sendable {
    private var entries: [String: Any] = [:]
    private let lock = NSLock()

    public init() {}

    /// The model stored under `key`, loading it with `load` the first time.
    func model<Model>(_ key: String, _ load: () throws -> Model) throws -> Model {
        lock.lock()
        defer { lock.unlock() }
        if let cached = entries[key] as? Model { return cached }
        let model = try load()
        entries[key] = model
        return model
    }

    func unet(_ model: ModelFolder) throws -> UNet2DConditionModel {
        try self.model("unet:" + model.unet.path) { try UNet2DConditionModel(folder: model.unet) }
    }

    func vae(_ model: ModelFolder) throws -> AutoencoderKL {
        try self.model("vae:" + model.vae.path) { try AutoencoderKL(folder: model.vae) }
    }

    func promptEncoder(_ model: ModelFolder) throws -> any PromptEncoder {
        try self.model("text:" + model.url.path) { () throws -> any PromptEncoder in
            switch model.family {
            case .sd15: return try StableDiffusionPromptEncoder(modelDirectory: model.url)
            case .sdxl:
                return try StableDiffusionXLPromptEncoder(
                    modelDirectory: model.url, forceZerosForEmptyPrompt: model.forceZerosForEmptyPrompt)
            }
        }
    }

    /// A ControlNet, checked once to fit `model`'s UNet.
    func controlNet(_ folder: URL, for model: ModelFolder) throws -> ControlNetModel {
        let unet = try unet(model)
        return try self.model("controlnet:\(folder.path)|\(model.unet.path)") {
            let net = try ControlNetModel(folder: folder)
            try net.checkFits(unet, folder: folder)
            return net
        }
    }

    /// An IP-Adapter is loaded for one UNet: its projections must fit that UNet's layers.
    func ipAdapter(_ folder: IPAdapterFolder, for model: ModelFolder) throws -> IPAdapter {
        let unet = try unet(model)
        return try self.model("ip-adapter:\(folder.url.path)|\(model.unet.path)") {
            try IPAdapter(folder: folder.url, unet: unet)
        }
    }
}
