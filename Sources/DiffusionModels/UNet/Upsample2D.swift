// Follows diffusers' models/upsampling.py (Upsample2D with use_conv=True, interpolate="nearest").
import DiffusionCore

/// Nearest-neighbour upsampling then a 3x3 convolution (`conv`).
public struct Upsample2D: Sendable {
    let conv: Conv2D

    public init(_ w: WeightScope, channels: Int) throws {
        conv = try w["conv"].conv2d(channels, channels, kernel: 3, padding: 1)
    }

    /// Doubles `x`, or resizes it to `size` (the UNet passes the skip connection's size when a
    /// latent side was odd and halving rounded up, as diffusers' `upsample_size`).
    public func callAsFunction(_ x: Tensor, size: (height: Int, width: Int)? = nil) -> Tensor {
        let (h, w) = (x.shape[1], x.shape[2])
        guard let size, size != (2 * h, 2 * w) else { return conv(x.upsampledNearest2x()) }
        return conv(x.resizedNearest(height: size.height, width: size.width))
    }
}
