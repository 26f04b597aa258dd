// Follows diffusers' loaders/ip_adapter.py and loaders/unet.py (_convert_ip_adapter_attn_to_diffusers),
// reading the original single-file IP-Adapter layout.
import DiffusionCore
import DiffusionFormats
import Foundation

/// An IP-Adapter: its image encoder, the image projection that turns the encoder's output into
/// tokens, and the `to_k_ip`/`to_v_ip` projections of every cross-attention of the UNet it was
/// trained for.
///
/// Folder layout (Docs/SPEC.md §1): `ip-adapter.safetensors` (`image_proj.*`, `ip_adapter.<id>.to_k_ip/to_v_ip`,
/// the ids numbering the UNet's cross-attentions 1, 3, 5, ... in diffusers' `attn_processors` order)
/// and `image_encoder/` (a CLIPVisionModelWithProjection folder).
public struct IPAdapter: Sendable {
    public let imageEncoder: CLIPVisionModelWithProjection
    public let imageProjection: IPAdapterImageProjection
    /// One per cross-attention of the UNet, in `UNet2DConditionModel.crossAttentionLayers` order.
    public let layers: [IPAdapterProjection]

    /// Loads the adapter in `folder` (`ip-adapter.safetensors` or `.bin`, and `image_encoder/`) for `unet`.
    public init(folder: URL, unet: UNet2DConditionModel) throws {
        try self.init(
            weights: WeightFile.named("ip-adapter").locate(in: folder), imageEncoder: folder.appendingPathComponent("image_encoder"),
            unet: unet)
    }

    /// Loads the adapter file `weights` under any name (h94's `ip-adapter-plus_sd15.safetensors`, a
    /// `.bin`) with the image encoder folder `imageEncoder`, which several adapters may share.
    ///
    /// - Throws: `ModelLoadingError` naming the file and the dimension when the adapter does not fit
    ///   the UNet or its image encoder, or is in neither the base nor the Plus layout.
    public init(weights: URL, imageEncoder encoderFolder: URL, unet: UNet2DConditionModel) throws {
        imageEncoder = try CLIPVisionModelWithProjection(directory: encoderFolder)
        let store = try WeightStore(contentsOf: weights)
        let path = store.file.url.path
        imageProjection = try IPAdapterImageProjection(store.root["image_proj"])
        let expectedInput = imageProjection.isPlus ? imageEncoder.config.hiddenSize : imageEncoder.config.projectionDim
        guard imageProjection.inputDimension == expectedInput else {
            throw ModelLoadingError(
                "\(path): the image projection reads features of width \(imageProjection.inputDimension), but the image "
                    + "encoder gives \(expectedInput) (\(imageProjection.isPlus ? "hidden_size" : "projection_dim"))")
        }
        let crossAttentions = unet.crossAttentionLayers
        let tokenWidth = imageProjection.outputDimension
        layers = try crossAttentions.enumerated().map { k, entry in
            guard entry.layer.contextDim == tokenWidth else {
                throw ModelLoadingError(
                    "\(path): the adapter makes tokens of width \(tokenWidth), but the UNet's \(entry.name) attends to width \(entry.layer.contextDim)")
            }
            let w = store.root["ip_adapter"][2 * k + 1]
            return IPAdapterProjection(
                toKIP: try w["to_k_ip"].linear(tokenWidth, entry.layer.innerDim, bias: false),
                toVIP: try w["to_v_ip"].linear(tokenWidth, entry.layer.innerDim, bias: false))
        }
        do { try store.checkAllUsed() } catch let error as ModelLoadingError {
            throw ModelLoadingError(
                "\(error.message) (the UNet has \(crossAttentions.count) cross-attention layers, ids 1 to \(2 * crossAttentions.count - 1))")
        }
    }

    /// The image tokens for `pixelValues` (one normalised image per batch entry) and, for
    /// classifier-free guidance, their negative: diffusers projects zeros in place of the image
    /// embeds for the base adapter, and encodes an all-zero `pixel_values` for Plus.
    public func imageTokens(_ pixelValues: Tensor) throws -> (positive: Tensor, negative: Tensor) {
        let encoded = try imageEncoder(pixelValues)
        if imageProjection.isPlus {
            let zeros = try imageEncoder(Tensor(shape: pixelValues.shape))
            return (imageProjection(encoded.penultimateHiddenStates), imageProjection(zeros.penultimateHiddenStates))
        }
        return (imageProjection(encoded.imageEmbeds), imageProjection(Tensor(shape: encoded.imageEmbeds.shape)))
    }
}

extension IPAdapterImageProjection {
    /// True for IP-Adapter Plus (the Resampler over hidden states).
    public var isPlus: Bool {
        if case .plus = self { return true }
        return false
    }
}
