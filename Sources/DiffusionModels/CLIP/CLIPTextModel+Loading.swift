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
        try self.init(config: config, file: file, patches: patches, name: directory.path)
    }

    /// Builds the model from an open weight file (a folder's, or a single-file checkpoint's
    /// component), keyed with or without `text_model.`; every key must be used, and every
    /// patch applied (`name` says which model in the error).
    public init(config: CLIPTextConfig, file: any TensorFile, patches: WeightPatches = .none, name: String = "the text encoder") throws {
        let prefixed = file.info("text_model.embeddings.token_embedding.weight") != nil
        let store = WeightStore(
            file: file, rename: prefixed ? { "text_model." + $0 } : { $0 }, ignored: Self.isBuffer, patches: patches)
        try self.init(config: config, weights: store.root)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: name)
    }

    /// The config and the open weights (`WeightFile.transformers`: `model.safetensors`,
    /// `pytorch_model.bin` or a variant) of a text encoder folder.
    static func openFolder(_ directory: URL) throws -> (CLIPTextConfig, any TensorFile) {
        let config = try CLIPTextConfig.load(contentsOf: directory.appendingPathComponent("config.json"))
        let file = try TensorFiles.open(WeightFile.transformers.locate(in: directory))
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
        try self.init(config: config, file: file, patches: patches, name: directory.path)
    }

    /// Builds the model from an open weight file keyed `text_model.*` and `text_projection.weight`;
    /// every key must be used, and every patch applied.
    public init(config: CLIPTextConfig, file: any TensorFile, patches: WeightPatches = .none, name: String = "the text encoder") throws {
        let store = WeightStore(file: file, ignored: CLIPTextModel.isBuffer, patches: patches)
        try self.init(config: config, weights: store.root)
        try store.checkAllUsed()
        try patches.checkAllApplied(model: name)
    }
}
