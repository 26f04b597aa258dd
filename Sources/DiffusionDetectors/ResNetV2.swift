// Follows timm's models/resnetv2.py (ResNetV2, preact=False, stem_type='same', StdConv2dSame eps 1e-8)
// as timm's vision_transformer_hybrid.py builds it for vit_base_r50_s16_384 (MiDaS DPT-Hybrid).
import DiffusionCore

/// The ResNet-50 front of the hybrid ViT: a 7x7 stride-2 stem with a 3x3 stride-2 max pool, then
/// stages of bottleneck blocks (stride 1, 2, 2), every convolution weight-standardized and
/// followed by a 32-group GroupNorm.
///
/// Weight standardization (`StdConv2dSame`) depends only on the weights, so it is applied once
/// at load. TensorFlow's "same" padding on the even sizes the detector feeds (multiples of 64)
/// is one more row and column at the bottom right than PyTorch's symmetric padding, which is
/// how the stride-2 layers run it (`Tensor.paddedBottomRight`).
struct ResNetV2: Sendable {
    static let groups = 32

    let stem: Convolution
    let stemNorm: GroupNorm
    let stages: [[Bottleneck]]

    init(_ w: DetectorWeights.Scope) throws {
        stem = try Self.standardized(w["stem"]["conv"], kernel: 7, stride: 2, padding: 2)
        stemNorm = try Self.groupNorm(w["stem"]["norm"], channels: stem.outChannels)
        var stages: [[Bottleneck]] = []
        var channels = stem.outChannels
        while w["stages"][stages.count]["blocks"][0].contains("conv1.weight") {
            let stage = w["stages"][stages.count]["blocks"]
            var blocks: [Bottleneck] = []
            while stage[blocks.count].contains("conv1.weight") {
                let block = try Bottleneck(stage[blocks.count], in: channels, stride: blocks.isEmpty && !stages.isEmpty ? 2 : 1)
                channels = block.outChannels
                blocks.append(block)
            }
            stages.append(blocks)
        }
        guard !stages.isEmpty else { throw w.weights.fail("missing weight '\(w.key("stages.0.blocks.0.conv1.weight"))'") }
        self.stages = stages
    }

    var outChannels: Int { stages.last?.last?.outChannels ?? stem.outChannels }

    /// The output of every stage, for an NHWC image of sides multiples of 64.
    func callAsFunction(_ x: Tensor) -> [Tensor] {
        // The pool's "same" padding is minus infinity; after the ReLU every value is >= 0, so
        // the zero row and column of `paddedBottomRight` never win either.
        var x = stemNorm(stem(x.paddedBottomRight())).relu()
        x = MaxPool2D(kernelSize: 3, stride: 2)(x.paddedBottomRight())
        var outputs: [Tensor] = []
        for stage in stages {
            for block in stage { x = block(x) }
            outputs.append(x)
        }
        return outputs
    }

    /// A `StdConv2dSame` (no bias): each output channel's weights standardized to zero mean and
    /// unit variance, `(w - mean) / sqrt(var + 1e-8)`, as its forward does on every call.
    static func standardized(_ w: DetectorWeights.Scope, in inChannels: Int? = nil, out: Int? = nil, kernel: Int,
                             stride: Int = 1, padding: Int = 0) throws -> Convolution {
        let shape = try w.shape("weight")
        let weight = try w.tensor("weight", shape: [out ?? shape.first ?? 0, inChannels ?? (shape.count > 1 ? shape[1] : 0), kernel, kernel])
        let perChannel = weight.count / weight.shape[0]
        var values = weight.scalars
        for o in 0..<weight.shape[0] {
            let row = values[o * perChannel..<(o + 1) * perChannel].map(Double.init)
            let mean = row.reduce(0, +) / Double(perChannel)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(perChannel)
            let inverse = 1 / (variance + 1e-8).squareRoot()
            for (i, value) in row.enumerated() { values[o * perChannel + i] = Float((value - mean) * inverse) }
        }
        return Convolution(weight: Tensor(shape: weight.shape, values: values), bias: nil, stride: stride, padding: padding)
    }

    static func groupNorm(_ w: DetectorWeights.Scope, channels: Int) throws -> GroupNorm {
        guard channels % groups == 0 else { throw w.weights.fail("'\(w.key("weight"))': \(channels) channels do not split into \(groups) groups") }
        return GroupNorm(groups: groups, epsilon: 1e-5, weight: try w.tensor("weight", shape: [channels]),
                         bias: try w.tensor("bias", shape: [channels]))
    }
}

/// ResNetV2's non-pre-activation bottleneck: 1x1, 3x3 (carrying the stride), 1x1, each
/// normalized, the last without ReLU before the residual sum; the first block of a stage
/// projects the shortcut (`downsample`).
struct Bottleneck: Sendable {
    let downsample: (conv: Convolution, norm: GroupNorm)?
    let conv1: Convolution, norm1: GroupNorm
    let conv2: Convolution, norm2: GroupNorm
    let conv3: Convolution, norm3: GroupNorm
    let stride: Int

    init(_ w: DetectorWeights.Scope, in inChannels: Int, stride: Int) throws {
        conv1 = try ResNetV2.standardized(w["conv1"], in: inChannels, kernel: 1)
        let mid = conv1.outChannels
        norm1 = try ResNetV2.groupNorm(w["norm1"], channels: mid)
        conv2 = try ResNetV2.standardized(w["conv2"], in: mid, out: mid, kernel: 3, stride: stride, padding: stride == 1 ? 1 : 0)
        norm2 = try ResNetV2.groupNorm(w["norm2"], channels: mid)
        conv3 = try ResNetV2.standardized(w["conv3"], in: mid, kernel: 1)
        norm3 = try ResNetV2.groupNorm(w["norm3"], channels: conv3.outChannels)
        if w["downsample"].contains("conv.weight") {
            let conv = try ResNetV2.standardized(w["downsample"]["conv"], in: inChannels, out: conv3.outChannels, kernel: 1, stride: stride)
            downsample = (conv, try ResNetV2.groupNorm(w["downsample"]["norm"], channels: conv3.outChannels))
        } else {
            downsample = nil
        }
        self.stride = stride
    }

    var outChannels: Int { conv3.outChannels }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let shortcut = downsample.map { $0.norm($0.conv(x)) } ?? x
        var y = norm1(conv1(x)).relu()
        y = norm2(conv2(stride == 1 ? y : y.paddedBottomRight())).relu()
        y = norm3(conv3(y))
        y.add(shortcut)
        return y.relu()
    }
}
