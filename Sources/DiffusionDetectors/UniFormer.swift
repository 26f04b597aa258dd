// Follows annotator/uniformer/mmseg/models/backbones/uniformer.py (UniFormer, PatchEmbed, CBlock,
// CMlp, SABlock) of lllyasviel/ControlNet-v1-1-nightly, as its exp/upernet_global_small config
// builds it: windows and hybrid off, so stages 3 and 4 attend globally.
import DiffusionCore

/// UniFormer's four stages (Docs/DETECTORS.md, "Seg"): each a patch embedding (a strided
/// convolution, 4 then 2, and a LayerNorm), its blocks, and a LayerNorm (eps 1e-6) of the
/// stage's output, which is what the decoder reads. Stages 1 and 2 have convolution blocks,
/// stages 3 and 4 global self-attention blocks. Widths and depths come from the weights.
struct UniFormer: Sendable {
    struct Stage: Sendable {
        let projection: Conv2D
        let embeddingNorm: LayerNorm
        let blocks: [Block]
        let norm: LayerNorm
    }

    enum Block: Sendable {
        case convolution(ConvolutionBlock)
        case attention(AttentionBlock)
    }

    /// The config's `head_dim`: the attention's features per head, which the weights do not
    /// record (the published widths 320 and 512 have 5 and 8 heads).
    static let headDim = 64

    let stages: [Stage]

    init(_ w: DetectorWeights.Scope) throws {
        var stages: [Stage] = []
        var channels = 3
        for stage in 1...4 {
            let embed = w["patch_embed\(stage)"]
            let patch = stage == 1 ? 4 : 2
            let width = try embed["proj"].shape("weight").first ?? 0
            let projection = Conv2D(weight: try embed["proj"].tensor("weight", shape: [width, channels, patch, patch]),
                                    bias: try embed["proj"].tensor("bias", shape: [width]), stride: patch)
            let blocks = w["blocks\(stage)"]
            var count = 0
            while blocks[count].contains("pos_embed.weight") { count += 1 }
            stages.append(Stage(
                projection: projection, embeddingNorm: try Self.layerNorm(embed["norm"], width: width, epsilon: 1e-5),
                blocks: try (0..<count).map { index in
                    stage <= 2 ? .convolution(try ConvolutionBlock(blocks[index], width: width))
                        : .attention(try AttentionBlock(blocks[index], width: width))
                },
                norm: try Self.layerNorm(w["norm\(stage)"], width: width, epsilon: 1e-6)))
            channels = width
        }
        self.stages = stages
    }

    static func layerNorm(_ w: DetectorWeights.Scope, width: Int, epsilon: Float) throws -> LayerNorm {
        LayerNorm(epsilon: epsilon, weight: try w.tensor("weight", shape: [width]), bias: try w.tensor("bias", shape: [width]))
    }

    /// The four stages' normalized outputs (strides 4, 8, 16, 32) of an NHWC image.
    func callAsFunction(_ image: Tensor) -> [Tensor] {
        var x = image
        var outputs: [Tensor] = []
        for stage in stages {
            x = stage.embeddingNorm(stage.projection(x))
            for block in stage.blocks {
                switch block {
                case .convolution(let block): x = block(x)
                case .attention(let block): x = block(x)
                }
            }
            outputs.append(stage.norm(x))
        }
        return outputs
    }
}

/// `CBlock`: `x + pos_embed(x)` (depthwise 3x3), then `x + conv2(attn(conv1(norm1(x))))` with a
/// depthwise 5x5 `attn`, then `x + fc2(gelu(fc1(norm2(x))))`. The 1x1 convolutions run as
/// linear layers over the channels; each BatchNorm is folded into the 1x1 layer after it.
struct ConvolutionBlock: Sendable {
    let positionEmbedding: Convolution
    let conv1: Linear, conv2: Linear
    let attention: Convolution
    let fc1: Linear, fc2: Linear

    init(_ w: DetectorWeights.Scope, width: Int) throws {
        positionEmbedding = try Convolution(w["pos_embed"], in: width, out: width, kernel: 3, padding: 1, groups: width)
        conv1 = try Self.pointwise(w["conv1"], in: width, out: width, after: w["norm1"])
        attention = try Convolution(w["attn"], in: width, out: width, kernel: 5, padding: 2, groups: width)
        conv2 = try Self.pointwise(w["conv2"], in: width, out: width)
        let hidden = try w["mlp"]["fc1"].shape("weight").first ?? 0
        fc1 = try Self.pointwise(w["mlp"]["fc1"], in: width, out: hidden, after: w["norm2"])
        fc2 = try Self.pointwise(w["mlp"]["fc2"], in: hidden, out: width)
    }

    /// The 1x1 convolution at `w` as a linear layer, with the eval-mode BatchNorm2d `norm` that
    /// precedes it folded in: `W (s x + t) + b = (W s) x + (W t + b)`, `s = gamma / sqrt(var + eps)`,
    /// `t = beta - mean * s` (exact up to rounding, as a 1x1 convolution has no padding).
    static func pointwise(_ w: DetectorWeights.Scope, in inputs: Int, out outputs: Int,
                          after norm: DetectorWeights.Scope? = nil) throws -> Linear {
        var weight = try w.tensor("weight", shape: [outputs, inputs, 1, 1]).scalars
        var bias = try w.tensor("bias", shape: [outputs]).scalars
        if let norm {
            let gamma = try norm.tensor("weight", shape: [inputs]).scalars, beta = try norm.tensor("bias", shape: [inputs]).scalars
            let mean = try norm.tensor("running_mean", shape: [inputs]).scalars
            let variance = try norm.tensor("running_var", shape: [inputs]).scalars
            let scale = (0..<inputs).map { gamma[$0] / (variance[$0] + 1e-5).squareRoot() }
            let shift = (0..<inputs).map { beta[$0] - mean[$0] * scale[$0] }
            for o in 0..<outputs {
                for i in 0..<inputs {
                    bias[o] += weight[o * inputs + i] * shift[i]
                    weight[o * inputs + i] *= scale[i]
                }
            }
        }
        return Linear(weight: Tensor(shape: [outputs, inputs], values: weight), bias: Tensor(shape: [outputs], values: bias))
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        x.add(positionEmbedding(x))
        x.add(conv2(attention(conv1(x))))
        x.add(fc2(fc1(x).applying(.geluErf)))
        return x
    }
}

/// `SABlock`: `x + pos_embed(x)` (depthwise 3x3), then the pixels as tokens through timm's
/// pre-norm transformer block (global attention; LayerNorm eps 1e-6, GELU MLP).
struct AttentionBlock: Sendable {
    let positionEmbedding: Convolution
    let transformer: TransformerBlock

    init(_ w: DetectorWeights.Scope, width: Int) throws {
        let headDim = UniFormer.headDim
        guard width % headDim == 0 else {
            throw w.weights.fail("'\(w.key("attn.qkv.weight"))': a width of \(width) does not split into heads of \(headDim) features")
        }
        positionEmbedding = try Convolution(w["pos_embed"], in: width, out: width, kernel: 3, padding: 1, groups: width)
        transformer = try TransformerBlock(w, width: width, heads: width / headDim)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        x.add(positionEmbedding(x))
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return transformer(x.reshaped([n, h * w, c])).reshaped([n, h, w, c])
    }
}
