// Follows diffusers' loaders/single_file_utils.py (convert_controlnet_checkpoint,
// create_controlnet_diffusers_config_from_ldm).
import DiffusionFormats
import Foundation

/// A ControlNet as one file with no config beside it, in the forms it is published in: the original
/// layout (lllyasviel's `control_v11p_sd15_canny.pth` and the `.safetensors` repacks: the UNet
/// encoder copy keyed `input_blocks`/`middle_block`, `zero_convs`, `middle_block_out` and
/// `input_hint_block`, under `control_model.` or with no prefix; SDXL's with `label_emb`), or
/// diffusers' own keys in a file of any name (SDXL ControlNets such as
/// `diffusers/controlnet-canny-sdxl-1.0` and the `diffusers_xl_*` repacks; diffusers'
/// `convert_controlnet_checkpoint` returns those as they are).
public enum SingleFileControlNet {
    static let prefix = "control_model."
    /// The key that tells a file in diffusers' names (`CHECKPOINT_KEY_NAMES["controlnet"]`).
    static let diffusersKey = "controlnet_cond_embedding.conv_in.weight"

    /// True when `file` holds a ControlNet in either layout.
    public static func holdsControlNet(_ file: any TensorFile) -> Bool {
        file.info(prefix + "input_hint_block.0.weight") != nil || file.info("input_hint_block.0.weight") != nil
            || file.info(diffusersKey) != nil
    }

    /// The ControlNet's tensors under diffusers' names.
    public static func weights(_ file: any TensorFile) throws -> RemappedTensorFile {
        guard holdsControlNet(file) else {
            throw ModelLoadingError(
                "\(file.url.path): not a single-file ControlNet: no 'input_hint_block.0.weight' (with or without '\(prefix)') "
                    + "nor diffusers' '\(diffusersKey)'")
        }
        if file.info(diffusersKey) != nil {
            return try RemappedTensorFile(base: file, sources: Dictionary(uniqueKeysWithValues: file.names.map { ($0, .init($0)) }))
        }
        let prefixed = file.info(prefix + "input_hint_block.0.weight") != nil
        return try RemappedTensorFile(base: file, sources: UNetKeyMap.sources(file.names, prefix: prefixed ? prefix : ""))
    }

    /// The config the tensors imply: the encoder's levels, channels and attention as for a UNet, the
    /// conditioning embedding's channels; heads as the family's standard config (SDXL when the file
    /// has SDXL's added time embedding).
    public static func config(_ weights: RemappedTensorFile) throws -> ControlNetConfig {
        let family: SingleFileCheckpoint.Family = weights.info("add_embedding.linear_1.weight") == nil ? .stableDiffusion15 : .stableDiffusionXL
        var unet = try SingleFileCheckpoint.encoderConfig(weights, family: family)
        unet.upBlockTypes = unet.downBlockTypes.reversed().map { $0.replacingOccurrences(of: "Down", with: "Up") }
        if let projection = weights.info("add_embedding.linear_1.weight")?.shape, projection.count == 2 {
            unet.additionEmbedType = "text_time"
            unet.projectionClassEmbeddingsInputDim = projection[1]
            unet.additionTimeEmbedDim = 256  // SDXL's; the pooled width it implies is not in a ControlNet file
        }
        var config = ControlNetConfig(unet: unet)
        let convIn = try SingleFileCheckpoint.shape(weights, "controlnet_cond_embedding.conv_in.weight", url: weights.url)
        config.conditioningChannels = convIn[1]
        let strided = (0..<weights.count("controlnet_cond_embedding.blocks.") / 2).map {
            weights.info("controlnet_cond_embedding.blocks.\(2 * $0 + 1).weight")?.shape.first ?? 0
        }
        config.conditioningEmbeddingOutChannels = [convIn[0]] + strided
        return config
    }

    /// Loads the ControlNet in `url`; `configFolder`'s `config.json`, when there is one, wins over
    /// the inferred config.
    public static func load(contentsOf url: URL, configFolder: URL? = nil) throws -> ControlNetModel {
        let w = try weights(try TensorFiles.open(url))
        let configFile = configFolder?.appendingPathComponent("config.json")
        let config = try configFile.flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
            .map(ControlNetConfig.load) ?? Self.config(w)
        try config.validate()
        let store = WeightStore(file: w)
        let model = try ControlNetModel(config: config, weights: store)
        try store.checkAllUsed()
        return model
    }
}
