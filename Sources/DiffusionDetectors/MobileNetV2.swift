// Follows controlnet_aux/mlsd/models/mbv2_mlsd_large.py (MobileNetV2, InvertedResidual, ConvBNReLU).
import DiffusionCore

/// The MobileNetV2 trunk of M-LSD: a stride-2 stem and the first 13 inverted-residual blocks
/// (`backbone.features.0` to `.13`), returning the five feature maps the decoder reads.
///
/// Every convolution is followed by an eval-mode BatchNorm, folded into it at load. The stride-2
/// layers pad only the right and bottom, as TFLite (`F.pad(x, (0, 1, 0, 1))`, then no padding).
struct MobileNetV2: Sendable {
    /// `(expansion t, channels c, blocks n, first stride s)` per stage, as the source's table.
    static let settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1)]
    /// The feature indices whose outputs are c1 ... c5.
    static let selected: Set<Int> = [1, 3, 6, 10, 13]

    let stem: ConvBNReLU
    let blocks: [InvertedResidual]

    init(_ w: DetectorWeights.Scope) throws {
        let features = w["features"]
        stem = try ConvBNReLU(features[0], in: 4, out: 32, kernel: 3, stride: 2)
        var blocks: [InvertedResidual] = []
        var channels = 32
        for (t, c, n, s) in Self.settings {
            for i in 0..<n {
                blocks.append(try InvertedResidual(features[blocks.count + 1], in: channels, out: c, stride: i == 0 ? s : 1, expansion: t))
                channels = c
            }
        }
        self.blocks = blocks
    }

    /// The outputs of features 1, 3, 6, 10 and 13 (strides 2, 4, 8, 16, 16) for an NHWC input of 4 channels.
    func callAsFunction(_ x: Tensor) -> [Tensor] {
        var x = stem(x), selected: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            x = block(x)
            if Self.selected.contains(i + 1) { selected.append(x) }
        }
        return selected
    }
}

/// Conv (no bias) + BatchNorm + ReLU6, with TFLite's padding at stride 2.
struct ConvBNReLU: Sendable {
    let conv: Convolution
    let stride: Int

    init(_ w: DetectorWeights.Scope, in inChannels: Int, out: Int, kernel: Int, stride: Int = 1, groups: Int = 1) throws {
        conv = try Convolution(w[0], batchNorm: w[1], in: inChannels, out: out, kernel: kernel, stride: stride,
                               padding: stride == 2 ? 0 : (kernel - 1) / 2, groups: groups)
        self.stride = stride
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        conv(stride == 2 ? x.paddedBottomRight() : x).relu6()
    }
}

/// MobileNetV2's block: an optional 1x1 expansion, a 3x3 depthwise convolution, a linear 1x1
/// projection, and the residual when the shape allows it.
struct InvertedResidual: Sendable {
    let expand: ConvBNReLU?
    let depthwise: ConvBNReLU
    let project: Convolution
    let residual: Bool

    init(_ w: DetectorWeights.Scope, in inChannels: Int, out: Int, stride: Int, expansion: Int) throws {
        let hidden = inChannels * expansion
        let conv = w["conv"]
        let first = expansion == 1 ? 0 : 1
        expand = expansion == 1 ? nil : try ConvBNReLU(conv[0], in: inChannels, out: hidden, kernel: 1)
        depthwise = try ConvBNReLU(conv[first], in: hidden, out: hidden, kernel: 3, stride: stride, groups: hidden)
        project = try Convolution(conv[first + 1], batchNorm: conv[first + 2], in: hidden, out: out, kernel: 1)
        residual = stride == 1 && inChannels == out
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = project(depthwise(expand.map { $0(x) } ?? x))
        if residual { y.add(x) }
        return y
    }
}
