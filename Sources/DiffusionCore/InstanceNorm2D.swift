/// `torch.nn.InstanceNorm2d` on NHWC tensors: each image's channels normalized over its own
/// pixels (biased variance, `epsilon` inside the square root), then, when `affine`, scaled and
/// shifted per channel. Without running statistics (torch's default) eval and training compute
/// the same, so this is both.
///
/// That is a `GroupNorm` with one group per channel, which runs it.
public struct InstanceNorm2D: Sendable {
    public let channels: Int
    private let groupNorm: GroupNorm

    /// - Parameters: `weight` and `bias` (`[channels]`) are the affine parameters; nil for
    ///   torch's default `affine=False`.
    public init(channels: Int, epsilon: Float = 1e-5, weight: Tensor? = nil, bias: Tensor? = nil) {
        precondition(channels > 0, "instance norm of \(channels) channels")
        self.channels = channels
        groupNorm = GroupNorm(groups: channels, epsilon: epsilon, weight: weight ?? Tensor(shape: [channels], repeating: 1),
                              bias: bias ?? Tensor(shape: [channels]))
    }

    /// Normalizes `[n, h, w, channels]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { groupNorm(x) }
}
