// Follows transformers' from_pretrained for the CLIP text towers (key prefixes, the position_ids buffer).
import DiffusionFormats
import Foundation

extension CLIPTextModel {
    /// Loads a transformers `CLIPTextModel` folder: `config.json` and `model.safetensors`.
    ///
    /// The hub's SD1.5/SDXL files key the tensors `text_model.*`, as transformers 4 saved them;
    /// transformers 5 saves them without the prefix. Both load. The `position_ids` buffer older files
    /// carry is ignored; any other key the model does not use is an error. `patches` (LoRA) are merged
    /// into the weights they change.
    public init(directory: URL, patches: WeightPatches = .none) throws {
        let (config, file) = try Self.openFolder(directory)
        let prefixed = file.info("text_model.embeddings.token_embedding.weight") != nil
        let store = WeightStore(
            file: file, rename: prefixed ? { "text_model." + $0 } : { $0 }, ignored: Self.isBuffer, patches: patches)
        try self.init(config: config, weights: store.root)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: directory.path)
    }

    /// The config and the open weights of a text encoder folder.
    static func openFolder(_ directory: URL) throws -> (CLIPTextConfig, SafeTensorsFile) {
        let config = try CLIPTextConfig.load(contentsOf: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        return (config, file)
    }

    /// `embeddings.position_ids`: a non-persistent buffer (`arange`) that transformers 4 still wrote.
    static func isBuffer(_ key: String) -> Bool {
        key == "text_model.embeddings.position_ids" || key == "embeddings.position_ids"
    }
}

extension CLIPTextModelWithProjection {
    /// Loads a transformers `CLIPTextModelWithProjection` folder: `config.json` and `model.safetensors`
    /// keyed `text_model.*` and `text_projection.weight`; the `position_ids` buffer is ignored. `patches`
    /// (LoRA) are merged into the weights they change.
    public init(directory: URL, patches: WeightPatches = .none) throws {
        let (config, file) = try CLIPTextModel.openFolder(directory)
        guard config.projectionDim != nil else {
            throw ModelLoadingError(
                "\(directory.appendingPathComponent("config.json").path): projection_dim is null; CLIPTextModelWithProjection needs it")
        }
        let store = WeightStore(file: file, ignored: CLIPTextModel.isBuffer, patches: patches)
        try self.init(config: config, weights: store.root)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: directory.path)
    }
}
