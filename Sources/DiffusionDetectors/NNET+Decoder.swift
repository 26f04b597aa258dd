// Follows controlnet_aux/normalbae/nets/submodules/decoder.py (Decoder, architecture "BN", mode
// "test") and submodules.py (UpSampleBN, norm_normalize), controlnet_aux 0.0.10.
import DiffusionCore
import Foundation

extension NNET {
    /// NormalBae's decoder in eval mode: `conv2` on the encoder's head, four `UpSampleBN` steps
    /// joining the skip features (strides 16, 8, 4, 2), a 3x3 prediction at 1/8 resolution, then
    /// three pixel-wise MLPs (1x1 `Conv1d`s) that refine it at 1/4, 1/2 and full resolution, each
    /// reading the decoder's features and the previous prediction upsampled 2x. Every prediction
    /// goes through `norm_normalize`. (Training samples pixels by uncertainty; eval runs every pixel.)
    struct Decoder: Sendable {
        let conv2: Convolution
        let up1: UpSampleBN, up2: UpSampleBN, up3: UpSampleBN, up4: UpSampleBN
        let outConvRes8: Convolution
        let outConvRes4: [Linear], outConvRes2: [Linear], outConvRes1: [Linear]

        /// `features`: the encoder's stage widths; `head`: its `conv_head` width.
        init(_ w: DetectorWeights.Scope, features: [Int], head: Int) throws {
            guard features.count == 7 else { throw w.weights.fail("the encoder has \(features.count) stages, not 7") }
            conv2 = try Convolution(w["conv2"], in: head, out: head, kernel: 1)
            up1 = try UpSampleBN(w["up1"], in: head + features[4])
            up2 = try UpSampleBN(w["up2"], in: up1.outChannels + features[2])
            up3 = try UpSampleBN(w["up3"], in: up2.outChannels + features[1])
            up4 = try UpSampleBN(w["up4"], in: up3.outChannels + features[0])
            outConvRes8 = try Convolution(w["out_conv_res8"], in: up2.outChannels, out: 4, kernel: 3, padding: 1)
            outConvRes4 = try Self.mlp(w["out_conv_res4"], in: up2.outChannels + 4)
            outConvRes2 = try Self.mlp(w["out_conv_res2"], in: up3.outChannels + 4)
            outConvRes1 = try Self.mlp(w["out_conv_res1"], in: up4.outChannels + 4)
        }

        /// `nn.Sequential(Conv1d, ReLU, Conv1d, ReLU, Conv1d, ReLU, Conv1d)` of kernel 1 (keys 0,
        /// 2, 4, 6), the last giving the 4 channels of a prediction.
        static func mlp(_ w: DetectorWeights.Scope, in inChannels: Int) throws -> [Linear] {
            var channels = inChannels
            return try [0, 2, 4, 6].map { index in
                let layer = w[index]
                let out = index == 6 ? 4 : try layer.shape("weight").first ?? 0
                let weight = try layer.tensor("weight", shape: [out, channels, 1]).reshaped([out, channels])
                defer { channels = out }
                return Linear(weight: weight, bias: try layer.tensor("bias", shape: [out]))
            }
        }

        /// The full-resolution normals `[1, 2h, 2w, 3]` from the skip features at strides 2, 4,
        /// 8 and 16 (`blocks`) and the head at stride 32.
        func callAsFunction(blocks: [Tensor], head: Tensor) -> Tensor {
            let xD1 = up1(conv2(head), blocks[3])
            let xD2 = up2(xD1, blocks[2])
            let xD3 = up3(xD2, blocks[1])
            let xD4 = up4(xD3, blocks[0])
            var prediction = Self.normNormalize(outConvRes8(xD2))
            for (features, mlp) in [(xD2, outConvRes4), (xD3, outConvRes2), (xD4, outConvRes1)] {
                let input = Tensor.concatenate([Self.upsampled(features), Self.upsampled(prediction)], axis: 3)
                prediction = Self.normNormalize(mlp.enumerated().reduce(input) { x, layer in
                    layer.offset < 3 ? layer.element(x).relu() : layer.element(x)
                })
            }
            return prediction.slice(axis: 3, 0..<3)
        }

        /// `F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)`.
        static func upsampled(_ x: Tensor) -> Tensor {
            x.resizedBilinear(height: 2 * x.shape[1], width: 2 * x.shape[2], alignCorners: true)
        }

        /// `norm_normalize` over the last axis of 4: the normal divided by its length (plus
        /// 1e-10), and `kappa` through `elu + 1 + 0.01`, in float32 as torch computes them.
        static func normNormalize(_ x: Tensor) -> Tensor {
            precondition(x.shape.last == 4, "norm_normalize of \(x.shape)")
            let result = Tensor(uninitializedShape: x.shape)
            let src = x.storage.pointer, dst = result.storage.pointer
            Parallel.forEachRange(x.count / 4, minimumPerThread: 4096) { pixels in
                for p in pixels {
                    let (v, out) = (src + 4 * p, dst + 4 * p)
                    let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).squareRoot() + 1e-10
                    for c in 0..<3 { out[c] = v[c] / norm }
                    let elu = v[3] > 0 ? v[3] : expm1f(v[3])
                    out[3] = elu + 1 + 0.01
                }
            }
            return result
        }
    }

    /// `UpSampleBN`: the coarser input resized to the skip's size (bilinear, corners aligned),
    /// concatenated before the skip, then twice a 3x3 convolution with its BatchNorm folded in
    /// and LeakyReLU (slope 0.01).
    struct UpSampleBN: Sendable {
        let conv1: Convolution, conv2: Convolution

        init(_ w: DetectorWeights.Scope, in inChannels: Int) throws {
            let net = w["_net"]
            conv1 = try Convolution(net[0], batchNorm: net[1], in: inChannels, kernel: 3, padding: 1, bias: true)
            conv2 = try Convolution(net[3], batchNorm: net[4], in: conv1.outChannels, out: conv1.outChannels, kernel: 3,
                                    padding: 1, bias: true)
        }

        var outChannels: Int { conv2.outChannels }

        func callAsFunction(_ x: Tensor, _ skip: Tensor) -> Tensor {
            let up = x.resizedBilinear(height: skip.shape[1], width: skip.shape[2], alignCorners: true)
            let leaky: (Float) -> Float = { $0 > 0 ? $0 : $0 * 0.01 }
            return conv2(conv1(Tensor.concatenate([up, skip], axis: 3)).map(leaky)).map(leaky)
        }
    }
}
