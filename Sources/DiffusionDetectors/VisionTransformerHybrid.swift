// Follows timm's models/vision_transformer.py (VisionTransformer, Block, Attention, Mlp) with
// HybridEmbed, run as controlnet_aux/midas/midas/vit.py's forward_flex (position embeddings
// resized to the input) with its forward hooks on the transformer blocks.
import DiffusionCore

/// The ViT-B/16 hybrid of MiDaS DPT-Hybrid: ResNetV2 features at stride 16, projected 1x1 to
/// tokens, a class token, position embeddings resized from the 24x24 grid they were trained on
/// to the input's (bilinear, corners not aligned), and pre-norm transformer blocks.
struct VisionTransformerHybrid: Sendable {
    let backbone: ResNetV2
    let projection: Conv2D
    let classToken: Tensor
    let positionEmbedding: Tensor
    let blocks: [TransformerBlock]
    var width: Int { classToken.count }

    /// - Parameter heads: the attention heads; nil for one per 64 features (at least one).
    init(_ w: DetectorWeights.Scope, heads: Int?) throws {
        backbone = try ResNetV2(w["patch_embed"]["backbone"])
        let projectionShape = try w["patch_embed"]["proj"].shape("weight")
        let width = projectionShape.first ?? 0
        projection = Conv2D(weight: try w["patch_embed"]["proj"].tensor("weight", shape: [width, backbone.outChannels, 1, 1]),
                            bias: try w["patch_embed"]["proj"].tensor("bias", shape: [width]))
        classToken = try w.tensor("cls_token", shape: [1, 1, width])
        positionEmbedding = try w.tensor("pos_embed")
        let grid = Int(Double(positionEmbedding.count / max(width, 1) - 1).squareRoot())
        guard positionEmbedding.shape == [1, grid * grid + 1, width], grid > 0 else {
            throw w.weights.fail("'\(w.key("pos_embed"))' has shape \(positionEmbedding.shape), not [1, n * n + 1, \(width)]")
        }
        let heads = heads ?? max(1, width / 64)
        guard heads > 0, width % heads == 0 else { throw w.weights.fail("a width of \(width) does not split into \(heads) heads") }
        var blocks: [TransformerBlock] = []
        while w["blocks"][blocks.count].contains("norm1.weight") {
            blocks.append(try TransformerBlock(w["blocks"][blocks.count], width: width, heads: heads))
        }
        self.blocks = blocks
    }

    /// The ResNet's stage outputs and the tokens `[1, 1 + h/16 * w/16, width]` after each block
    /// in `hooks`, for an NHWC image of sides multiples of 64.
    func callAsFunction(_ x: Tensor, hooks: [Int]) -> (stages: [Tensor], tokens: [Tensor]) {
        let stages = backbone(x)
        let features = projection(stages[stages.count - 1])
        let (gh, gw) = (features.shape[1], features.shape[2])
        var tokens = Tensor.concatenate([classToken, features.reshaped([1, gh * gw, width])], axis: 1)
        tokens.add(positions(height: gh, width: gw))
        var hooked: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            tokens = block(tokens)
            if hooks.contains(i) { hooked.append(tokens) }
        }
        return (stages, hooked)
    }

    /// `_resize_pos_embed`: the class token's embedding, then the grid's resized to `height` x `width`.
    private func positions(height: Int, width gridWidth: Int) -> Tensor {
        let grid = Int(Double(positionEmbedding.shape[1] - 1).squareRoot())
        let cls = positionEmbedding.slice(axis: 1, 0..<1)
        let table = positionEmbedding.slice(axis: 1, 1..<grid * grid + 1).reshaped([1, grid, grid, width])
        let resized = table.resizedBilinear(height: height, width: gridWidth, alignCorners: false)
        return Tensor.concatenate([cls, resized.reshaped([1, height * gridWidth, width])], axis: 1)
    }
}

/// timm's `Block`: `x + attn(norm1(x))`, then `x + mlp(norm2(x))` (LayerNorm eps 1e-6, GELU).
struct TransformerBlock: Sendable {
    let norm1: LayerNorm, norm2: LayerNorm
    let qkv: Linear, proj: Linear
    let fc1: Linear, fc2: Linear
    let heads: Int

    init(_ w: DetectorWeights.Scope, width: Int, heads: Int) throws {
        func norm(_ scope: DetectorWeights.Scope) throws -> LayerNorm {
            LayerNorm(epsilon: 1e-6, weight: try scope.tensor("weight", shape: [width]), bias: try scope.tensor("bias", shape: [width]))
        }
        func linear(_ scope: DetectorWeights.Scope, in inputs: Int, out: Int? = nil) throws -> Linear {
            let outputs = try out ?? scope.shape("weight").first ?? 0
            return Linear(weight: try scope.tensor("weight", shape: [outputs, inputs]), bias: try scope.tensor("bias", shape: [outputs]))
        }
        norm1 = try norm(w["norm1"])
        norm2 = try norm(w["norm2"])
        qkv = try linear(w["attn"]["qkv"], in: width, out: 3 * width)
        proj = try linear(w["attn"]["proj"], in: width, out: width)
        fc1 = try linear(w["mlp"]["fc1"], in: width)
        fc2 = try linear(w["mlp"]["fc2"], in: fc1.outFeatures, out: width)
        self.heads = heads
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let width = x.shape[2]
        let qkv = self.qkv(norm1(x))
        let attended = Attention.scaledDotProduct(query: qkv.slice(axis: 2, 0..<width), key: qkv.slice(axis: 2, width..<2 * width),
                                                  value: qkv.slice(axis: 2, 2 * width..<3 * width), heads: heads)
        var x = x
        x.add(proj(attended))
        x.add(fc2(fc1(norm2(x)).applying(.geluErf)))
        return x
    }
}
