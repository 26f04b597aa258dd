/// `torch.nn.BatchNorm2d` in eval mode, which is an affine map per channel with the running
/// statistics: `(x - mean) / sqrt(var + eps) * weight + bias`. Inference never runs it as a
/// layer: `folded(weight:bias:)` moves it into the convolution before it, so the convolution
/// computes both in one pass.
public struct BatchNorm: Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let epsilon: Float

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, epsilon: Float = 1e-5) {
        let channels = weight.count
        precondition([bias, runningMean, runningVar].allSatisfy { $0.count == channels },
                     "batch norm tensors \(weight.shape), \(bias.shape), \(runningMean.shape), \(runningVar.shape)")
        self.weight = weight
        self.bias = bias
        self.runningMean = runningMean
        self.runningVar = runningVar
        self.epsilon = epsilon
    }

    /// The weight and bias of a convolution (`[out, in, kh, kw]`, one output channel per norm
    /// channel) followed by this norm: each output channel's weights scaled by
    /// `s = weight / sqrt(var + eps)`, its bias `(bias_conv - mean) * s + bias`.
    public func folded(weight convWeight: Tensor, bias convBias: Tensor?) -> (weight: Tensor, bias: Tensor) {
        let channels = weight.count
        precondition(convWeight.shape.first == channels && convBias.map { $0.count == channels } ?? true,
                     "batch norm of \(channels) channels after a conv of \(convWeight.shape)")
        let perChannel = convWeight.count / channels
        let (gamma, beta, mean, variance) = (weight.scalars, bias.scalars, runningMean.scalars, runningVar.scalars)
        let scale = (0..<channels).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let original = convWeight.scalars, originalBias = convBias?.scalars ?? [Float](repeating: 0, count: channels)
        let weights = (0..<convWeight.count).map { original[$0] * scale[$0 / perChannel] }
        let biases = (0..<channels).map { (originalBias[$0] - mean[$0]) * scale[$0] + beta[$0] }
        return (Tensor(shape: convWeight.shape, values: weights), Tensor(shape: [channels], values: biases))
    }
}
