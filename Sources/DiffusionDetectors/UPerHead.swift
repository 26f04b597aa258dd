// Follows annotator/uniformer/mmseg/models/decode_heads/uper_head.py (UPerHead) and psp_head.py
// (PPM) of lllyasviel/ControlNet-v1-1-nightly, with mmcv's ConvModule (convolution without bias,
// BatchNorm, ReLU) and align_corners false throughout, as the upernet_uniformer config sets them.
import DiffusionCore

/// UperNet's decoder: a pooling pyramid (average pools to 1x1, 2x2, 3x3 and 6x6 cells, each
/// 1x1-convolved and enlarged back) on the deepest features, a top-down feature pyramid over the
/// others, all four levels enlarged to the finest and fused by a 3x3 convolution, and the 1x1
/// classifier (`conv_seg`). Its logits are at a quarter of the image's size.
struct UPerHead: Sendable {
    /// The config's `pool_scales`; the weights only say how many there are.
    static let poolScales = [1, 2, 3, 6]

    let pyramid: [Convolution]
    let bottleneck: Convolution
    let lateral: [Convolution]
    let fpn: [Convolution]
    let fpnBottleneck: Convolution
    let classifier: Convolution

    /// - Parameter inChannels: the widths of the backbone's four outputs.
    init(_ w: DetectorWeights.Scope, inChannels: [Int]) throws {
        let channels = try w["bottleneck"]["conv"].shape("weight").first ?? 0
        let deepest = inChannels[inChannels.count - 1]
        func module(_ m: DetectorWeights.Scope, in inputs: Int, kernel: Int) throws -> Convolution {
            try Convolution(m["conv"], batchNorm: m["bn"], in: inputs, out: channels, kernel: kernel, padding: kernel / 2)
        }
        pyramid = try Self.poolScales.indices.map { try module(w["psp_modules"][$0]["1"], in: deepest, kernel: 1) }
        guard !w["psp_modules"][Self.poolScales.count].contains("1.conv.weight") else {
            throw w.weights.fail("'\(w.key("psp_modules"))' has more than the \(Self.poolScales.count) pooling scales of UperNet's config")
        }
        bottleneck = try module(w["bottleneck"], in: deepest + Self.poolScales.count * channels, kernel: 3)
        lateral = try inChannels.dropLast().indices.map { try module(w["lateral_convs"][$0], in: inChannels[$0], kernel: 1) }
        fpn = try inChannels.dropLast().indices.map { try module(w["fpn_convs"][$0], in: channels, kernel: 3) }
        fpnBottleneck = try module(w["fpn_bottleneck"], in: inChannels.count * channels, kernel: 3)
        classifier = try Convolution(w["conv_seg"], in: channels, kernel: 1)
    }

    var classes: Int { classifier.outChannels }

    /// The class logits `[1, h, w, classes]` of the backbone's four NHWC outputs, at the finest's size.
    func callAsFunction(_ features: [Tensor]) -> Tensor {
        var laterals = zip(lateral, features).map { conv, x in conv(x).relu() }
        laterals.append(pyramidPooling(features[features.count - 1]))
        for i in stride(from: laterals.count - 1, to: 0, by: -1) {
            laterals[i - 1].add(Self.resized(laterals[i], like: laterals[i - 1]))
        }
        var outputs = zip(fpn, laterals).map { conv, x in conv(x).relu() }
        outputs.append(laterals[laterals.count - 1])
        for i in 1..<outputs.count { outputs[i] = Self.resized(outputs[i], like: outputs[0]) }
        return classifier(fpnBottleneck(Tensor.concatenate(outputs, axis: 3)).relu())
    }

    /// `psp_forward`: the features beside their pooled, convolved and enlarged copies, fused.
    private func pyramidPooling(_ x: Tensor) -> Tensor {
        let pooled = zip(Self.poolScales, pyramid).map { scale, conv in
            Self.resized(conv(AdaptiveAvgPool2D(outputSize: scale)(x)).relu(), like: x)
        }
        return bottleneck(Tensor.concatenate([x] + pooled, axis: 3)).relu()
    }

    /// mmseg's `resize(x, size=like's, mode="bilinear", align_corners=False)`.
    static func resized(_ x: Tensor, like target: Tensor) -> Tensor {
        x.resizedBilinear(height: target.shape[1], width: target.shape[2], alignCorners: false)
    }
}
