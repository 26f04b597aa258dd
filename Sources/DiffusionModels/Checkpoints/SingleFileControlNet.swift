// Follows diffusers' loaders/single_file_utils.py (convert_controlnet_checkpoint,
// create_controlnet_diffusers_config_from_ldm).
import DiffusionFormats
import Foundation

/// A ControlNet in its original single-file form (lllyasviel's `control_v11p_sd15_canny.pth` and the
/// `.safetensors` repacks): the UNet encoder copy keyed `input_blocks`/`middle_block`, `zero_convs`,
/// `middle_block_out` and `input_hint_block`, under `control_model.` or with no prefix.
public enum SingleFileControlNet {
    static let prefix = "control_model."

    /// True when `file` holds an original-layout ControlNet.
    public static func holdsControlNet(_ file: any TensorFile) -> Bool {
        file.info(prefix + "input_hint_block.0.weight") != nil || file.info("input_hint_block.0.weight") != nil
    }

    /// The ControlNet's tensors under diffusers' names.
    public static func weights(_ file: any TensorFile) throws -> RemappedTensorFile {
        guard holdsControlNet(file) else {
            throw ModelLoadingError("\(file.url.path): not a single-file ControlNet: no 'input_hint_block.0.weight' (with or without '\(prefix)')")
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
