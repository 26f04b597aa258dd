// Follows diffusers' models/attention_processor.py (Attention with AttnProcessor2_0 and IPAdapterAttnProcessor2_0).
import DiffusionCore

/// diffusers' `Attention` module: `to_q`, `to_k`, `to_v`, `to_out.0`. (Named after the class's
/// older diffusers name so it does not shadow DiffusionCore's `Attention` kernel.)
///
/// A class, not a value, so that a UNet can tell its cross-attentions apart by identity when it
/// hands each one its IP-Adapter projections (`UNet2DConditionModel.crossAttentionLayers`).
/// Read-only once built: IP-Adapters travel with each call, never stored in the layer.
public final class CrossAttention: Sendable {
    let toQ: Linear
    let toK: Linear
    let toV: Linear
    let toOut: Linear
    public let heads: Int
    /// The attention's width (`heads * head_dim`): the output width of `to_k_ip`/`to_v_ip`.
    public var innerDim: Int { toQ.outFeatures }
    /// The key/value input width (`cross_attention_dim` in an `attn2`): the input width of `to_k_ip`/`to_v_ip`.
    public var contextDim: Int { toK.inFeatures }

    /// - Parameters:
    ///   - contextDim: the key/value input width (`cross_attention_dim`; `queryDim` for self-attention).
    ///   - bias: whether q/k/v have biases (false in the UNet's transformers, true in the VAE).
    public init(_ w: WeightScope, queryDim: Int, contextDim: Int, heads: Int, headDim: Int, bias: Bool) throws {
        let inner = heads * headDim
        toQ = try w["to_q"].linear(queryDim, inner, bias: bias)
        toK = try w["to_k"].linear(contextDim, inner, bias: bias)
        toV = try w["to_v"].linear(contextDim, inner, bias: bias)
        toOut = try w["to_out"][0].linear(inner, queryDim)
        self.heads = heads
    }

    /// Attends `x` `[batch, tokens, queryDim]` over `context` (itself when nil), then adds, per
    /// IP-Adapter image k, `scale_k * attention(q, to_k_ip_k(tokens_k), to_v_ip_k(tokens_k))` before `to_out`.
    /// Scores are float32 throughout, so `upcast_attention`/`upcast_softmax` change nothing.
    ///
    /// - Parameter ipAdapters: each IP-Adapter image's projections for this layer with its tokens and scale.
    public func callAsFunction(
        _ x: Tensor, context: Tensor? = nil, ipAdapters: [(projection: IPAdapterProjection, tokens: IPAdapterTokens)] = []
    ) throws -> Tensor {
        let context = context ?? x
        let query = toQ(x)
        var hidden = Attention.scaledDotProduct(query: query, key: toK(context), value: toV(context), heads: heads)
        for (adapter, tokens) in ipAdapters where tokens.scale != 0 {
            try tokens.check(batch: x.shape[0], width: adapter.toKIP.inFeatures)
            guard adapter.toKIP.outFeatures == innerDim, adapter.toVIP.outFeatures == innerDim,
                  adapter.toVIP.inFeatures == adapter.toKIP.inFeatures else {
                throw ModelInputError("IP-Adapter projections of width \(adapter.toKIP.outFeatures) for an attention of width \(innerDim)")
            }
            let ip = Attention.scaledDotProduct(
                query: query, key: adapter.toKIP(tokens.tokens), value: adapter.toVIP(tokens.tokens), heads: heads)
            hidden.add(ip, scale: tokens.scale)
        }
        return toOut(hidden)
    }
}

/// The IP-Adapter key and value projections of one cross-attention layer for one adapter
/// (`to_k_ip.<k>`/`to_v_ip.<k>` in diffusers' IPAdapterAttnProcessor).
public struct IPAdapterProjection: Sendable {
    public let toKIP: Linear
    public let toVIP: Linear

    public init(toKIP: Linear, toVIP: Linear) {
        self.toKIP = toKIP
        self.toVIP = toVIP
    }
}

/// One IP-Adapter image as the UNet's forward takes it: its tokens `[batch, tokens, cross_attention_dim]`,
/// its scale, and its adapter's projections, one per cross-attention in
/// `UNet2DConditionModel.crossAttentionLayers` order. It travels with the call, so requests
/// sharing one UNet never see each other's adapters.
public struct IPAdapterTokens: Sendable {
    public let tokens: Tensor
    public let scale: Float
    public let layers: [IPAdapterProjection]

    public init(tokens: Tensor, scale: Float, layers: [IPAdapterProjection]) {
        self.tokens = tokens
        self.scale = scale
        self.layers = layers
    }

    func check(batch: Int, width: Int) throws {
        guard tokens.rank == 3, tokens.shape[0] == batch, tokens.shape[2] == width else {
            throw ModelInputError("IP-Adapter tokens \(tokens.shape) do not fit [\(batch), n, \(width)]")
        }
    }
}
