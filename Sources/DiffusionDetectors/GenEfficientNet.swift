// Follows geffnet's gen_efficientnet.py (GenEfficientNet, _gen_efficientnet, tf_efficientnet_b5_ap)
// and efficientnet_builder.py, as controlnet_aux 0.0.10 vendors them for NormalBae's encoder.
import DiffusionCore

/// EfficientNet-B5 (`tf_efficientnet_b5_ap`), the encoder of NormalBae: a 3x3 stride-2 stem, seven
/// stages of blocks (`blocks.0` depthwise-separable, the rest inverted residuals, all with
/// squeeze-and-excitation and swish) and the 1x1 `conv_head`, every convolution with TensorFlow's
/// "same" padding and followed by a BatchNorm (eps 1e-3) folded into it at load.
///
/// Channel counts, kernel sizes and the number of blocks per stage come from the weights; the
/// strides are the architecture's (`ds_r1_k3_s1`, `ir_r2_k3_s2`, ... of `_gen_efficientnet`),
/// which the weights do not record.
struct GenEfficientNet: Sendable {
    /// The first block's stride in each stage.
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    /// TensorFlow's BatchNorm epsilon (`BN_EPS_TF_DEFAULT`).
    static let epsilon: Float = 1e-3

    let convStem: Conv2dSame
    let blocks: [[Block]]
    let convHead: Convolution

    init(_ w: DetectorWeights.Scope) throws {
        convStem = try Conv2dSame(w["conv_stem"], batchNorm: w["bn1"], in: 3, kernel: 3, stride: 2, epsilon: Self.epsilon)
        var channels = convStem.outChannels
        var stages: [[Block]] = []
        for (s, stride) in Self.stageStrides.enumerated() {
            var stage: [Block] = []
            while w["blocks"][s][stage.count].contains("conv_dw.weight") {
                let block = try Block(w["blocks"][s][stage.count], in: channels, stride: stage.isEmpty ? stride : 1,
                                      depthwiseSeparable: s == 0)
                channels = block.outChannels
                stage.append(block)
            }
            guard !stage.isEmpty else { throw w.weights.fail("missing weight '\(w["blocks"][s][0].key("conv_dw.weight"))'") }
            stages.append(stage)
        }
        blocks = stages
        let out = try w["conv_head"].shape("weight").first ?? 0
        convHead = try Convolution(w["conv_head"], in: channels, out: out, kernel: 1, bias: false)
    }

    /// The outputs of the seven stages and of `conv_head` (before its BatchNorm, as NormalBae's
    /// encoder returns it) for an NHWC image `[1, h, w, 3]`.
    func callAsFunction(_ x: Tensor) -> (stages: [Tensor], head: Tensor) {
        var x = convStem(x).applying(.silu)
        var stages: [Tensor] = []
        for stage in blocks {
            for block in stage { x = block(x) }
            stages.append(x)
        }
        return (stages, convHead(x))
    }
}
