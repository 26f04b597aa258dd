/// `torch.nn.InstanceNorm2d` on NHWC tensors: each image's channels normalized over its own
/// pixels (biased variance, `epsilon` inside the square root), then, when affine, scaled and
/// shifted per channel. Without running statistics (torch's default) eval and training compute
/// the same, so this is both.
///
/// The statistics are summed in double (`channelSums`, as GroupNorm's); unlike GroupNorm's folded
/// scale and shift, the mean is subtracted before scaling, so a channel far from zero keeps its
/// precision, and a ReLU can be applied in the same pass.
public struct InstanceNorm2D: Sendable {
    public let channels: Int
    public let epsilon: Float
    public let weight: Tensor?
    public let bias: Tensor?

    /// - Parameters: `weight` and `bias` (`[channels]`) are the affine parameters; nil for
    ///   torch's default `affine=False`.
    public init(channels: Int, epsilon: Float = 1e-5, weight: Tensor? = nil, bias: Tensor? = nil) {
        precondition(channels > 0 && weight.map { $0.shape == [channels] } != false && bias.map { $0.shape == [channels] } != false,
                     "instance norm of \(channels) channels with weight \(weight?.shape ?? []), bias \(bias?.shape ?? [])")
        self.channels = channels
        self.epsilon = epsilon
        self.weight = weight
        self.bias = bias
    }

    /// Normalizes `[n, h, w, channels]`, then applies ReLU when `relu` (most instance norms of an
    /// image-to-image network are followed by one).
    public func callAsFunction(_ x: Tensor, relu: Bool = false) -> Tensor {
        precondition(x.rank == 4 && x.shape[3] == channels, "instance norm of \(channels) channels applied to \(x.shape)")
        return Profile.measure(.normalization, flops: 0) { normalize(x, relu: relu) }
    }

    private func normalize(_ x: Tensor, relu: Bool) -> Tensor {
        let (batch, pixels, channels) = (x.shape[0], x.shape[1] * x.shape[2], channels)
        let y = Tensor(uninitializedShape: x.shape)
        let lowest: Float = relu ? 0 : -.infinity
        for n in 0..<batch {
            let (src, dst) = (x.storage.pointer + n * pixels * channels, y.storage.pointer + n * pixels * channels)
            let affine = self.affine(src, pixels: pixels)
            affine.withUnsafeBufferPointer { a in
                let (mean, scale, shift) = (a.baseAddress!, a.baseAddress! + channels, a.baseAddress! + 2 * channels)
                Parallel.forEachRange(pixels, minimumPerThread: max(1, 8192 / channels)) { range in
                    for p in range {
                        let (s, d) = (src + p * channels, dst + p * channels)
                        for c in 0..<channels { d[c] = max((s[c] - mean[c]) * scale[c] + shift[c], lowest) }
                    }
                }
            }
        }
        return y
    }

    /// Each channel's mean, then its scale (`weight / sqrt(variance + epsilon)`), then its shift (`bias`).
    private func affine(_ src: UnsafePointer<Float>, pixels: Int) -> [Float] {
        let (sums, squares) = channelSums(src, pixels: pixels, channels: channels, Kernels.current)
        var values = [Float](repeating: 0, count: 3 * channels)
        for c in 0..<channels {
            let mean = sums[c] / Double(pixels)
            let variance = max(0, squares[c] / Double(pixels) - mean * mean)
            values[c] = Float(mean)
            values[channels + c] = Float(Double(weight?[flat: c] ?? 1) / (variance + Double(epsilon)).squareRoot())
            values[2 * channels + c] = bias?[flat: c] ?? 0
        }
        return values
    }
}
