// Follows diffusers/models/embeddings.py: ImageProjection and IPAdapterPlusImageProjection, read
// from the original IP-Adapter layout as diffusers/loaders/unet.py converts it.
import DiffusionCore

/// An IP-Adapter's image projection: turns the image encoder's output into the extra tokens
/// every cross-attention of the UNet attends to. The variant is read from the keys, as diffusers does.
public enum IPAdapterImageProjection: Sendable {
    /// `image_proj.proj.weight`: the base adapter, 4 tokens from the projected image embedding.
    case base(ImageProjection)
    /// `image_proj.latents`: IP-Adapter Plus, a perceiver Resampler over the penultimate hidden states.
    case plus(IPAdapterPlusImageProjection)

    /// Reads the projection under `w` (the `image_proj` scope of an `ip-adapter.safetensors`).
    ///
    /// - Throws: `ModelLoadingError` when the keys are of neither layout, or are mis-shaped.
    public init(_ w: WeightScope) throws {
        if w.contains("proj.weight") {
            self = .base(try ImageProjection(w))
        } else if w.contains("latents") {
            self = .plus(try IPAdapterPlusImageProjection(w))
        } else {
            throw ModelLoadingError(
                "\(w.store.file.url.path): no IP-Adapter image projection: expected '\(w.key("proj.weight"))' "
                    + "(base) or '\(w.key("latents"))' (Plus)")
        }
    }

    /// The width of the tokens it makes: the UNet's `cross_attention_dim`.
    public var outputDimension: Int {
        switch self {
        case .base(let p): return p.crossAttentionDimension
        case .plus(let p): return p.outputDimension
        }
    }

    /// The width of the image features it reads: the encoder's projection dimension (base) or
    /// its hidden size (Plus).
    public var inputDimension: Int {
        switch self {
        case .base(let p): return p.imageEmbedDimension
        case .plus(let p): return p.embedDimension
        }
    }

    /// Image tokens `[batch, tokens, outputDimension]` from `[batch, inputDimension]` image embeds
    /// (base) or `[batch, patches, inputDimension]` hidden states (Plus).
    public func callAsFunction(_ features: Tensor) -> Tensor {
        switch self {
        case .base(let p): return p(features)
        case .plus(let p): return p(features)
        }
    }
}

/// diffusers' `ImageProjection` with the original layout's names: `proj` (diffusers' `image_embeds`)
/// maps the image embedding to 4 tokens, then `norm` normalises each token.
public struct ImageProjection: Sendable {
    /// Tokens per image; diffusers fixes it at 4 for this layout.
    public static let tokens = 4
    public let proj: Linear
    public let norm: LayerNorm

    public var imageEmbedDimension: Int { proj.inFeatures }
    public var crossAttentionDimension: Int { proj.outFeatures / Self.tokens }

    public init(_ w: WeightScope) throws {
        guard let shape = w.store.file.info(w.key("proj.weight"))?.shape, shape.count == 2,
              shape[0] % Self.tokens == 0
        else { throw ModelLoadingError("\(w.store.file.url.path): '\(w.key("proj.weight"))' is not [4 * cross_dim, embed_dim]") }
        proj = try w["proj"].linear(shape[1], shape[0])
        norm = try w["norm"].layerNorm(shape[0] / Self.tokens, epsilon: 1e-5)
    }

    public func callAsFunction(_ imageEmbeds: Tensor) -> Tensor {
        norm(proj(imageEmbeds).reshaped([imageEmbeds.shape[0], Self.tokens, crossAttentionDimension]))
    }
}
