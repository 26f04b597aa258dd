// Follows controlnet_aux/mlsd/models/mbv2_mlsd_large.py (MobileV2_MLSD_Large, BlockTypeA/B/C).
import DiffusionCore

/// M-LSD large: the MobileNetV2 trunk and a U-shaped decoder to half the input's resolution.
///
/// Its 16 output channels hold, from channel 7, the line-centre logit and the four displacements
/// (x, y of the start, x, y of the end) that the decoding reads, then four channels it does not;
/// the last convolution computes only those five (`MLSDDetector+Decoding.swift`).
struct MobileV2MLSDLarge: Sendable {
    static let outputChannels = 7..<12

    let backbone: MobileNetV2
    let block15: BlockTypeA, block16: BlockTypeB
    let block17: BlockTypeA, block18: BlockTypeB
    let block19: BlockTypeA, block20: BlockTypeB
    let block21: BlockTypeA, block22: BlockTypeB
    let block23: BlockTypeC

    init(_ w: DetectorWeights.Scope) throws {
        backbone = try MobileNetV2(w["backbone"])
        block15 = try BlockTypeA(w["block15"], inA: 64, inB: 96, outA: 64, outB: 64, upscale: false)
        block16 = try BlockTypeB(w["block16"], in: 128, out: 64)
        block17 = try BlockTypeA(w["block17"], inA: 32, inB: 64, outA: 64, outB: 64, upscale: true)
        block18 = try BlockTypeB(w["block18"], in: 128, out: 64)
        block19 = try BlockTypeA(w["block19"], inA: 24, inB: 64, outA: 64, outB: 64, upscale: true)
        block20 = try BlockTypeB(w["block20"], in: 128, out: 64)
        block21 = try BlockTypeA(w["block21"], inA: 16, inB: 64, outA: 64, outB: 64, upscale: true)
        block22 = try BlockTypeB(w["block22"], in: 128, out: 64)
        block23 = try BlockTypeC(w["block23"], in: 64, out: 16, keeping: Self.outputChannels)
    }

    /// `[1, h, w, 4]` (RGB and a constant channel, scaled to [-1, 1]) to `[1, h/2, w/2, 5]`:
    /// the centre logit and the four displacements, in half-resolution pixels.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let c = backbone(x)
        var x = block16(block15(c[3], c[4]))
        x = block18(block17(c[2], x))
        x = block20(block19(c[1], x))
        x = block22(block21(c[0], x))
        return block23(x)
    }
}

/// Two 1x1 conv-BN-ReLU branches, the second upsampled 2x (bilinear, corners aligned), concatenated.
struct BlockTypeA: Sendable {
    let conv1: Convolution, conv2: Convolution
    let upscale: Bool

    init(_ w: DetectorWeights.Scope, inA: Int, inB: Int, outA: Int, outB: Int, upscale: Bool) throws {
        conv1 = try Convolution(w["conv1"][0], batchNorm: w["conv1"][1], in: inB, out: outB, kernel: 1, bias: true)
        conv2 = try Convolution(w["conv2"][0], batchNorm: w["conv2"][1], in: inA, out: outA, kernel: 1, bias: true)
        self.upscale = upscale
    }

    func callAsFunction(_ a: Tensor, _ b: Tensor) -> Tensor {
        var b = conv1(b).relu()
        if upscale { b = b.resizedBilinear(height: 2 * b.shape[1], width: 2 * b.shape[2], alignCorners: true) }
        return Tensor.concatenate([conv2(a).relu(), b], axis: 3)
    }
}

/// A residual 3x3 conv-BN-ReLU, then a second one.
struct BlockTypeB: Sendable {
    let conv1: Convolution, conv2: Convolution

    init(_ w: DetectorWeights.Scope, in inChannels: Int, out: Int) throws {
        conv1 = try Convolution(w["conv1"][0], batchNorm: w["conv1"][1], in: inChannels, out: inChannels, kernel: 3, padding: 1, bias: true)
        conv2 = try Convolution(w["conv2"][0], batchNorm: w["conv2"][1], in: inChannels, out: out, kernel: 3, padding: 1, bias: true)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = conv1(x).relu()
        y.add(x)
        return conv2(y).relu()
    }
}

/// A dilated (5) 3x3 conv-BN-ReLU, a 3x3 conv-BN-ReLU, and the 1x1 output convolution, of
/// which only the channels in `keeping` are computed.
struct BlockTypeC: Sendable {
    let conv1: Convolution, conv2: Convolution, conv3: Convolution

    init(_ w: DetectorWeights.Scope, in inChannels: Int, out: Int, keeping channels: Range<Int>) throws {
        conv1 = try Convolution(w["conv1"][0], batchNorm: w["conv1"][1], in: inChannels, out: inChannels, kernel: 3,
                                padding: 5, dilation: 5, bias: true)
        conv2 = try Convolution(w["conv2"][0], batchNorm: w["conv2"][1], in: inChannels, out: inChannels, kernel: 3, padding: 1, bias: true)
        let weight = try w["conv3"].tensor("weight", shape: [out, inChannels, 1, 1])
        let bias = try w["conv3"].tensor("bias", shape: [out])
        conv3 = Convolution(weight: weight.slice(axis: 0, channels), bias: bias.slice(axis: 0, channels))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        conv3(conv2(conv1(x).relu()).relu())
    }
}
