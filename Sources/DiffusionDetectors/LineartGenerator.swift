// Follows controlnet_aux 0.0.10's lineart/__init__.py (Generator, ResidualBlock).
import DiffusionCore
import Foundation

/// The lineart network, controlnet_aux's `Generator(3, 1, 3)` (`sk_model.pth`, `sk_model2.pth`):
/// an image-to-image network of the CycleGAN kind.
///
/// - `model0`: reflection padding 3, a 7x7 convolution, instance norm, ReLU;
/// - `model1`: two 3x3 stride-2 convolutions (padding 1), each with instance norm and ReLU;
/// - `model2`: three residual blocks, `x + (pad 1, 3x3, norm, ReLU, pad 1, 3x3, norm)(x)`;
/// - `model3`: two 3x3 stride-2 transposed convolutions (padding 1, output padding 1), each with
///   instance norm and ReLU;
/// - `model4`: reflection padding 3, a 7x7 convolution to one channel, sigmoid.
///
/// Instance norms have no affine parameters (torch's default), so the file holds only the
/// convolutions. Channel counts are read from it (the published files have 64, 128, 256), so the
/// tests' tiny random networks run through the same code.
struct LineartGenerator: Sendable {
    static let residualBlocks = 3

    let model0: Conv2D
    let downsampling: [Conv2D]
    let residual: [(Conv2D, Conv2D)]
    let upsampling: [ConvTranspose2D]
    /// The 7x7 convolution to one channel, run as the transposed convolution of its flipped
    /// kernel (the same sums): one product of every pixel with the 49 taps, then shifted adds,
    /// where the direct kernel would spend 16 output lanes on one channel.
    let model4: ConvTranspose2D

    init(_ w: DetectorWeights.Scope) throws {
        model0 = try Self.conv(w["model0"][1], in: 3, kernel: 7, padding: 0)
        let down1 = try Self.conv(w["model1"][0], in: model0.outChannels, kernel: 3, stride: 2, padding: 1)
        let down2 = try Self.conv(w["model1"][3], in: down1.outChannels, kernel: 3, stride: 2, padding: 1)
        downsampling = [down1, down2]
        let features = down2.outChannels
        // Padding 1 on the reflection-padded input, whose border is then cropped: the same
        // valid values, and the geometry Conv2D runs with Winograd.
        residual = try (0..<Self.residualBlocks).map { i in
            let block = w["model2"][i]["conv_block"]
            return (try Self.conv(block[1], in: features, out: features, kernel: 3, padding: 1),
                    try Self.conv(block[5], in: features, out: features, kernel: 3, padding: 1))
        }
        let up1 = try Self.transposed(w["model3"][0], in: features)
        let up2 = try Self.transposed(w["model3"][3], in: up1.outChannels)
        upsampling = [up1, up2]
        model4 = try Self.outputConv(w["model4"][1], in: up2.outChannels)
    }

    /// The convolution at `w`, `[out, in, k, k]` with a bias.
    private static func conv(_ w: DetectorWeights.Scope, in inChannels: Int, out: Int? = nil, kernel: Int,
                             stride: Int = 1, padding: Int) throws -> Conv2D {
        let outChannels = try out ?? w.shape("weight").first ?? 0
        let weight = try w.tensor("weight", shape: [outChannels, inChannels, kernel, kernel])
        return Conv2D(weight: weight, bias: try w.tensor("bias", shape: [outChannels]), stride: stride, padding: padding)
    }

    /// The 3x3 stride-2 transposed convolution at `w`, `[in, out, 3, 3]` with a bias.
    private static func transposed(_ w: DetectorWeights.Scope, in inChannels: Int) throws -> ConvTranspose2D {
        let outChannels = try w.shape("weight").dropFirst().first ?? 0
        let weight = try w.tensor("weight", shape: [inChannels, outChannels, 3, 3])
        return ConvTranspose2D(weight: weight, bias: try w.tensor("bias", shape: [outChannels]),
                               stride: 2, padding: 1, outputPadding: 1)
    }

    /// The 7x7 convolution to one channel at `w` (`[1, in, 7, 7]`, no padding) as a transposed
    /// convolution: input channel `ci`'s tap `(ky, kx)` moved to `(6 - ky, 6 - kx)`, padding 6.
    private static func outputConv(_ w: DetectorWeights.Scope, in inChannels: Int) throws -> ConvTranspose2D {
        let weight = try w.tensor("weight", shape: [1, inChannels, 7, 7]).scalars
        let flipped = (0..<inChannels * 49).map { (i: Int) -> Float in weight[i - i % 49 + 48 - i % 49] }
        return ConvTranspose2D(weight: Tensor(shape: [inChannels, 1, 7, 7], values: flipped),
                               bias: try w.tensor("bias", shape: [1]), padding: 6)
    }

    /// The line map `[1, h, w, 1]` in 0...1 (lines dark) of an RGB image `[1, h, w, 3]` in 0...1.
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = Self.normalized(model0(x.reflectionPadded(3)), relu: true)
        for conv in downsampling { h = Self.normalized(conv(h), relu: true) }
        for (first, second) in residual {
            let inner = Self.normalized(Self.cropped(first(h.reflectionPadded(1))), relu: true)
            h = h + Self.normalized(Self.cropped(second(inner.reflectionPadded(1))), relu: false)
        }
        for conv in upsampling { h = Self.normalized(conv(h), relu: true) }
        return model4(h.reflectionPadded(3)).map { 1 / (1 + expf(-$0)) }
    }

    /// `nn.InstanceNorm2d` (no affine), then ReLU when `relu`.
    private static func normalized(_ x: Tensor, relu: Bool) -> Tensor {
        InstanceNorm2D(channels: x.shape[3])(x, relu: relu)
    }

    /// The valid part of a padding-1 convolution of a padded input: one pixel off every side.
    private static func cropped(_ x: Tensor) -> Tensor {
        x.slice(axis: 1, 1..<x.shape[1] - 1).slice(axis: 2, 1..<x.shape[2] - 1)
    }
}
