// Follows diffusers' models/resnet.py (ResnetBlock2D, resnet_time_scale_shift "default").
import DiffusionCore

/// GroupNorm, activation, 3x3 conv, (+ projected time embedding), GroupNorm, activation, 3x3 conv,
/// plus the input (through a 1x1 `conv_shortcut` when the channel count changes), divided by
/// `output_scale_factor`. The VAE's blocks have no time embedding.
public struct ResnetBlock2D: Sendable {
    let norm1: GroupNorm
    let conv1: Conv2D
    let timeEmbProj: Linear?
    let norm2: GroupNorm
    let conv2: Conv2D
    let convShortcut: Conv2D?
    let activation: Activation
    let outputScaleFactor: Float

    /// The `layers` blocks `w["resnets"][0...]` of a down or decoder level: the first maps
    /// `inChannels` to `outChannels`, the others keep `outChannels`.
    static func stack(
        _ w: WeightScope, inChannels: Int, outChannels: Int, layers: Int, tembChannels: Int?, groups: Int, epsilon: Float,
        activation: Activation
    ) throws -> [ResnetBlock2D] {
        try (0..<layers).map {
            try ResnetBlock2D(
                w["resnets"][$0], inChannels: $0 == 0 ? inChannels : outChannels, outChannels: outChannels,
                tembChannels: tembChannels, groups: groups, epsilon: epsilon, activation: activation)
        }
    }

    public init(
        _ w: WeightScope, inChannels: Int, outChannels: Int, tembChannels: Int?, groups: Int, epsilon: Float,
        activation: Activation, outputScaleFactor: Float = 1
    ) throws {
        norm1 = try w["norm1"].groupNorm(groups: groups, channels: inChannels, epsilon: epsilon)
        conv1 = try w["conv1"].conv2d(inChannels, outChannels, kernel: 3, padding: 1)
        timeEmbProj = try tembChannels.map { try w["time_emb_proj"].linear($0, outChannels) }
        norm2 = try w["norm2"].groupNorm(groups: groups, channels: outChannels, epsilon: epsilon)
        conv2 = try w["conv2"].conv2d(outChannels, outChannels, kernel: 3, padding: 1)
        convShortcut = inChannels == outChannels ? nil : try w["conv_shortcut"].conv2d(inChannels, outChannels, kernel: 1)
        self.activation = activation
        self.outputScaleFactor = outputScaleFactor
    }

    /// - Parameters:
    ///   - x: `[batch, h, w, in]`.
    ///   - temb: `[batch, temb]`, the time embedding (nil in the VAE).
    public func callAsFunction(_ x: Tensor, temb: Tensor?) -> Tensor {
        var h = conv1(norm1(x, activation: activation))
        if let timeEmbProj, let temb {
            h = h.addingPerSample(timeEmbProj(temb.applying(activation)))
        }
        h = conv2(norm2(h, activation: activation))
        // Dropout sits between the norm and conv2; at inference it is the identity.
        var result = convShortcut.map { $0(x) } ?? x
        result.add(h)
        return outputScaleFactor == 1 ? result : result / outputScaleFactor
    }
}
