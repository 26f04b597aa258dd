// Follows diffusers/models/embeddings.py: IPAdapterPlusImageProjection(Block), with the original
// Resampler's key names (layers.i.0 = PerceiverAttention, layers.i.1 = its feed-forward).
import DiffusionCore

/// The IP-Adapter Plus Resampler: learned latent queries attend, layer by layer, to the image
/// features concatenated with themselves; the result is projected to the UNet's width.
public struct IPAdapterPlusImageProjection: Sendable {
    /// diffusers derives the head count from `to_q`'s width at 64 features per head.
    public static let headDimension = 64
    public let latents: Tensor
    public let projIn: Linear
    public let projOut: Linear
    public let normOut: LayerNorm
    public let layers: [ResamplerLayer]

    public var embedDimension: Int { projIn.inFeatures }
    public var outputDimension: Int { projOut.outFeatures }

    public init(_ w: WeightScope) throws {
        latents = try w.tensor("latents")
        guard latents.rank == 3, latents.shape[0] == 1 else {
            throw ModelLoadingError("\(w.store.file.url.path): '\(w.key("latents"))' is \(latents.shape), not [1, queries, hidden]")
        }
        let hidden = latents.shape[2]
        let embed = try Self.columns(w, "proj_in.weight"), output = try Self.rows(w, "proj_out.weight")
        projIn = try w["proj_in"].linear(embed, hidden)
        projOut = try w["proj_out"].linear(hidden, output)
        normOut = try w["norm_out"].layerNorm(output, epsilon: 1e-5)
        let inner = try Self.rows(w, "layers.0.0.to_q.weight")
        guard inner % Self.headDimension == 0 else {
            throw ModelLoadingError("\(w.store.file.url.path): '\(w.key("layers.0.0.to_q.weight"))' width \(inner) is not heads x 64")
        }
        var layers: [ResamplerLayer] = []
        while w.contains("layers.\(layers.count).0.to_q.weight") {
            layers.append(try ResamplerLayer(w["layers"][layers.count], hidden: hidden, inner: inner))
        }
        self.layers = layers
    }

    /// `[batch, patches, embed]` image features to `[batch, queries, output]` tokens.
    public func callAsFunction(_ features: Tensor) -> Tensor {
        let batch = features.shape[0]
        var queries = Tensor.concatenate(Array(repeating: latents, count: batch), axis: 0)
        let x = projIn(features)
        for layer in layers { queries = layer(x, queries) }
        return normOut(projOut(queries))
    }

    private static func rows(_ w: WeightScope, _ key: String) throws -> Int { try dimensions(w, key)[0] }
    private static func columns(_ w: WeightScope, _ key: String) throws -> Int { try dimensions(w, key)[1] }

    private static func dimensions(_ w: WeightScope, _ key: String) throws -> [Int] {
        guard let shape = w.store.file.info(w.key(key))?.shape, shape.count == 2 else {
            throw ModelLoadingError("\(w.store.file.url.path): missing or non-matrix weight '\(w.key(key))'")
        }
        return shape
    }
}

/// One Resampler layer: perceiver attention of the latents over `[features; latents]`, then a
/// pre-norm GELU feed-forward, each with a residual.
public struct ResamplerLayer: Sendable {
    let norm1: LayerNorm, norm2: LayerNorm
    let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
    let ffNorm: LayerNorm, ffIn: Linear, ffOut: Linear
    let heads: Int

    init(_ w: WeightScope, hidden: Int, inner: Int) throws {
        let attention = w[0], feedForward = w[1]
        norm1 = try attention["norm1"].layerNorm(hidden, epsilon: 1e-5)
        norm2 = try attention["norm2"].layerNorm(hidden, epsilon: 1e-5)
        toQ = try attention["to_q"].linear(hidden, inner, bias: false)
        // The original stores keys and values as one `to_kv`; diffusers splits it in halves.
        let keyValue = try attention["to_kv"].tensor("weight", shape: [2 * inner, hidden])
        toK = Linear(weight: keyValue.slice(axis: 0, 0..<inner), bias: nil)
        toV = Linear(weight: keyValue.slice(axis: 0, inner..<2 * inner), bias: nil)
        toOut = try attention["to_out"].linear(inner, hidden, bias: false)
        ffNorm = try feedForward[0].layerNorm(hidden, epsilon: 1e-5)
        ffIn = try feedForward[1].linear(hidden, 4 * hidden, bias: false)
        ffOut = try feedForward[3].linear(4 * hidden, hidden, bias: false)
        heads = inner / IPAdapterPlusImageProjection.headDimension
    }

    func callAsFunction(_ x: Tensor, _ latents: Tensor) -> Tensor {
        let normalized = norm2(latents)
        let context = Tensor.concatenate([norm1(x), normalized], axis: 1)
        let attended = Attention.scaledDotProduct(
            query: toQ(normalized), key: toK(context), value: toV(context), heads: heads)
        var out = toOut(attended)
        out.add(latents)
        var fed = ffOut(ffIn(ffNorm(out)).applying(.geluErf))
        fed.add(out)
        return fed
    }
}
