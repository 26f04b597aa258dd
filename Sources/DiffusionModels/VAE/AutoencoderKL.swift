// Follows diffusers' models/autoencoders/autoencoder_kl.py (AutoencoderKL).
import DiffusionCore
import DiffusionFormats
import Foundation

/// The KL autoencoder of SD1.5/SD2/SDXL, built from a diffusers `vae/` folder. NHWC throughout.
///
/// `decode` takes latents in the VAE's own scale, exactly as diffusers' `vae.decode`: the caller
/// divides the diffusion latents by `scalingFactor` first (and multiplies the encoder's samples by it).
public struct AutoencoderKL: Sendable {
    public let config: AutoencoderKLConfig
    public let encoder: VAEEncoder
    public let decoder: VAEDecoder
    let quantConv: Conv2D?
    let postQuantConv: Conv2D?

    /// `scaling_factor` from the config: diffusion latents = VAE latents x this.
    public var scalingFactor: Float { config.scalingFactor }

    /// Loads `config.json` and the weights (`WeightFile.diffusers`) from a `vae/` folder. Files from
    /// older diffusers that name the mid-block attention `query`/`key`/`value`/`proj_attn` load too.
    public init(folder: URL) throws {
        let config = try AutoencoderKLConfig.load(contentsOf: folder.appendingPathComponent("config.json"))
        let file = try TensorFiles.open(WeightFile.diffusers.locate(in: folder))
        let store = WeightStore(file: file, rename: { key in file.info(key) == nil ? AutoencoderKL.legacyName(key) : key })
        try self.init(config: config, weights: store)
        try store.checkAllUsed()
    }

    /// Builds the model from `weights`; the caller checks afterwards that every weight was used.
    public init(config: AutoencoderKLConfig, weights: WeightStore) throws {
        let activation = try config.activation()
        let w = weights.root, latent = config.latentChannels
        self.config = config
        encoder = try VAEEncoder(w["encoder"], config: config, activation: activation)
        decoder = try VAEDecoder(w["decoder"], config: config, activation: activation)
        quantConv = config.useQuantConv ? try w["quant_conv"].conv2d(2 * latent, 2 * latent, kernel: 1) : nil
        postQuantConv = config.usePostQuantConv ? try w["post_quant_conv"].conv2d(latent, latent, kernel: 1) : nil
    }

    /// The name older diffusers wrote for a mid-block attention weight (what diffusers'
    /// `_convert_deprecated_attention_blocks` renames when it loads such a file).
    static func legacyName(_ key: String) -> String {
        let renames = [(".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn.")]
        guard key.contains(".mid_block.attentions.") else { return key }
        for (current, legacy) in renames where key.contains(current) {
            return key.replacingOccurrences(of: current, with: legacy)
        }
        return key
    }

    /// Decodes VAE-scale latents `[batch, h, w, latent_channels]` (already divided by
    /// `scalingFactor`) to images `[batch, 8h, 8w, out_channels]` in about [-1, 1].
    public func decode(_ latents: Tensor) throws -> Tensor {
        try checkChannels(latents, config.latentChannels, "latents")
        return try decoder(postQuantConv.map { $0(latents) } ?? latents)
    }

    /// The latent distribution of images `[batch, h, w, in_channels]` in [-1, 1].
    public func encode(_ images: Tensor) throws -> LatentDistribution {
        try checkChannels(images, config.inChannels, "images")
        let h = try encoder(images)
        let moments = quantConv.map { $0(h) } ?? h
        let halves = moments.chunked(2, axis: 3)
        return LatentDistribution(mean: halves[0], logvar: halves[1].map { min(max($0, -30), 20) })
    }

    private func checkChannels(_ x: Tensor, _ channels: Int, _ what: String) throws {
        guard x.rank == 4, x.shape[3] == channels, x.shape[0] > 0, x.shape[1] > 0, x.shape[2] > 0 else {
            throw ModelInputError("VAE \(what) \(x.shape): expected [batch, h, w, \(channels)]")
        }
    }
}

/// diffusers' `DiagonalGaussianDistribution`: the encoder's mean and log-variance (clamped to
/// [-30, 20]), NHWC `[batch, h, w, latent_channels]`.
public struct LatentDistribution: Sendable {
    public let mean: Tensor
    public let logvar: Tensor
}
