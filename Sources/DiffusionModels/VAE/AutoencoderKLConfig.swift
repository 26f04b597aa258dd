// Follows the config of diffusers' models/autoencoders/autoencoder_kl.py (AutoencoderKL.__init__).
import DiffusionCore
import Foundation

/// The `vae/config.json` of a diffusers model folder, with diffusers' defaults for missing keys.
public struct AutoencoderKLConfig: Codable, Sendable, Equatable {
    public var inChannels = 3
    public var outChannels = 3
    public var downBlockTypes = ["DownEncoderBlock2D"]
    public var upBlockTypes = ["UpDecoderBlock2D"]
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var actFn = "silu"
    public var latentChannels = 4
    public var normNumGroups = 32
    /// The image side one tile covers in tiled decoding (a list's first entry).
    public var sampleSize: PerBlock<Int> = .all(32)
    public var scalingFactor: Float = 0.18215
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true
    // Accepted only when null: they change how latents are scaled and the runtime does not apply them.
    public var shiftFactor: Float?
    public var latentsMean: [Float]?
    public var latentsStd: [Float]?

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", downBlockTypes = "down_block_types"
        case upBlockTypes = "up_block_types", blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case actFn = "act_fn", latentChannels = "latent_channels", normNumGroups = "norm_num_groups"
        case sampleSize = "sample_size", scalingFactor = "scaling_factor", useQuantConv = "use_quant_conv"
        case usePostQuantConv = "use_post_quant_conv", midBlockAddAttention = "mid_block_add_attention"
        case shiftFactor = "shift_factor", latentsMean = "latents_mean", latentsStd = "latents_std"
    }

    /// diffusers' defaults.
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.inChannels, &inChannels); try read(.outChannels, &outChannels)
        try read(.downBlockTypes, &downBlockTypes); try read(.upBlockTypes, &upBlockTypes)
        try read(.blockOutChannels, &blockOutChannels); try read(.layersPerBlock, &layersPerBlock)
        try read(.actFn, &actFn); try read(.latentChannels, &latentChannels); try read(.normNumGroups, &normNumGroups)
        try read(.sampleSize, &sampleSize); try read(.scalingFactor, &scalingFactor)
        try read(.useQuantConv, &useQuantConv); try read(.usePostQuantConv, &usePostQuantConv)
        try read(.midBlockAddAttention, &midBlockAddAttention)
        shiftFactor = try c.decodeIfPresent(Float.self, forKey: .shiftFactor)
        latentsMean = try c.decodeIfPresent([Float].self, forKey: .latentsMean)
        latentsStd = try c.decodeIfPresent([Float].self, forKey: .latentsStd)
    }

    /// Reads and validates `url` (a diffusers `vae/config.json`).
    public static func load(contentsOf url: URL) throws -> AutoencoderKLConfig {
        let config: AutoencoderKLConfig
        do {
            config = try JSONDecoder().decode(AutoencoderKLConfig.self, from: ConfigCheck.read(url, what: "VAE config"))
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        } catch {
            throw ModelLoadingError("\(url.path): cannot read the VAE config: \(error)")
        }
        do {
            _ = try config.activation()
        } catch let error as ModelLoadingError {
            throw ModelLoadingError("\(url.path): \(error.message)")
        }
        return config
    }

    /// Counts that index or allocate, and the latent scale that divides.
    private func validateSizes() throws {
        for (field, size) in [("in_channels", inChannels), ("out_channels", outChannels), ("latent_channels", latentChannels)] {
            try ConfigCheck.size(field, size)
        }
        for channels in blockOutChannels { try ConfigCheck.size("block_out_channels", channels) }
        try ConfigCheck.depth("layers_per_block", layersPerBlock)
        try ConfigCheck.blockCount(blockOutChannels.count)
        // Tiled decoding steps through tiles of sample_size / 2^(blocks - 1) latent pixels by
        // three quarters of a tile, which must be at least one pixel.
        let side: Int
        switch sampleSize {
        case .all(let size): side = size
        case .each(let sizes): side = sizes.first ?? 0
        }
        try ConfigCheck.range("sample_size", side, 2 << (blockOutChannels.count - 1)...ConfigCheck.maximumSize)
        guard scalingFactor.isFinite, scalingFactor > 0 else {
            throw ModelLoadingError("config field 'scaling_factor' = \(scalingFactor) must be a positive finite number")
        }
    }

    /// Validates the config and returns its activation.
    func activation() throws -> Activation {
        let n = blockOutChannels.count
        guard n > 0, blockOutChannels.allSatisfy({ $0 > 0 && $0 % max(normNumGroups, 1) == 0 }), normNumGroups > 0 else {
            throw ModelLoadingError("config fields 'block_out_channels' / 'norm_num_groups': every block's channels must split into the groups")
        }
        guard downBlockTypes == Array(repeating: "DownEncoderBlock2D", count: n) else {
            throw ModelLoadingError("config field 'down_block_types' must list \(n) DownEncoderBlock2D blocks")
        }
        guard upBlockTypes == Array(repeating: "UpDecoderBlock2D", count: n) else {
            throw ModelLoadingError("config field 'up_block_types' must list \(n) UpDecoderBlock2D blocks")
        }
        try validateSizes()
        if shiftFactor != nil { throw ModelLoadingError("config field 'shift_factor' is not supported") }
        if latentsMean != nil || latentsStd != nil {
            throw ModelLoadingError("config fields 'latents_mean' / 'latents_std' are not supported")
        }
        guard let activation = Activation(name: actFn) else {
            throw ModelLoadingError("config field 'act_fn': activation '\(actFn)' is not supported")
        }
        return activation
    }
}
