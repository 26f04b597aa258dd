// Follows diffusers' models/downsampling.py (Downsample2D with use_conv=True).
import DiffusionCore

/// A 3x3 stride-2 convolution (`conv`). With `padding` 0 (the VAE encoder) diffusers first pads
/// one zero row and column at the bottom and right, so odd and even sizes halve alike.
public struct Downsample2D: Sendable {
    let conv: Conv2D
    let padding: Int

    public init(_ w: WeightScope, channels: Int, padding: Int) throws {
        conv = try w["conv"].conv2d(channels, channels, kernel: 3, stride: 2, padding: padding)
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv(padding == 0 ? x.paddedBottomRight() : x)
    }
}
