// Follows geffnet's efficientnet_builder.py (DepthwiseSeparableConv, InvertedResidual, SqueezeExcite).
import DiffusionCore
import Foundation

extension GenEfficientNet {
    /// One block: `DepthwiseSeparableConv` (depthwise, SE, 1x1 projection) or `InvertedResidual`
    /// (1x1 expansion, depthwise, SE, 1x1 projection), swish after every convolution but the
    /// projection, and the input added back when the shape allows (stride 1, same channels).
    struct Block: Sendable {
        let convPw: Conv2dSame?
        let convDw: Conv2dSame
        let se: SqueezeExcite
        let projection: Conv2dSame
        let hasResidual: Bool

        init(_ w: DetectorWeights.Scope, in inChannels: Int, stride: Int, depthwiseSeparable: Bool) throws {
            let epsilon = GenEfficientNet.epsilon
            // The expansion's norm is bn1; the depthwise one's bn1 without expansion, bn2 with it.
            let (dwNorm, projectionKey, projectionNorm) = depthwiseSeparable ? ("bn1", "conv_pw", "bn2") : ("bn2", "conv_pwl", "bn3")
            convPw = depthwiseSeparable ? nil
                : try Conv2dSame(w["conv_pw"], batchNorm: w["bn1"], in: inChannels, kernel: 1, epsilon: epsilon)
            let mid = convPw?.outChannels ?? inChannels
            let kernel = try w["conv_dw"].shape("weight").last ?? 0
            guard mid > 0, kernel > 0 else {
                throw w.weights.invalid(w.key("conv_dw.weight"), "has \(mid) channels of kernel \(kernel)")
            }
            convDw = try Conv2dSame(w["conv_dw"], batchNorm: w[dwNorm], in: mid, out: mid, kernel: kernel, stride: stride,
                                    groups: mid, epsilon: epsilon)
            se = try SqueezeExcite(w["se"], channels: mid)
            projection = try Conv2dSame(w[projectionKey], batchNorm: w[projectionNorm], in: mid, kernel: 1, epsilon: epsilon)
            hasResidual = stride == 1 && inChannels == projection.outChannels
        }

        var outChannels: Int { projection.outChannels }

        func callAsFunction(_ x: Tensor) -> Tensor {
            var y = convPw.map { $0(x).applying(.silu) } ?? x
            y = projection(se(convDw(y).applying(.silu)))
            if hasResidual { y.add(x) }
            return y
        }
    }

    /// Squeeze-and-excitation: each channel scaled by a sigmoid gate computed from the channels'
    /// means through a 1x1 reduction, swish, and a 1x1 expansion.
    struct SqueezeExcite: Sendable {
        let convReduce: Linear
        let convExpand: Linear

        init(_ w: DetectorWeights.Scope, channels: Int) throws {
            let reduced = try w["conv_reduce"].shape("weight").first ?? 0
            convReduce = Linear(weight: try w["conv_reduce"].tensor("weight", shape: [reduced, channels, 1, 1]).reshaped([reduced, channels]),
                                bias: try w["conv_reduce"].tensor("bias", shape: [reduced]))
            convExpand = Linear(weight: try w["conv_expand"].tensor("weight", shape: [channels, reduced, 1, 1]).reshaped([channels, reduced]),
                                bias: try w["conv_expand"].tensor("bias", shape: [channels]))
        }

        func callAsFunction(_ x: Tensor) -> Tensor {
            let gates = convExpand(convReduce(x.spatialMean()).applying(.silu)).map { 1 / (1 + expf(-$0)) }
            return x.scalingChannels(by: gates)
        }
    }
}
