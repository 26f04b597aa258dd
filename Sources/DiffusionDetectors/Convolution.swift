import DiffusionCore

/// A `torch.nn.Conv2d` read from a detector's weights, run by whichever kernel fits it:
/// `Conv2D` for the ordinary geometry, `GroupedConv2D` for grouped or dilated layers.
enum Convolution: Sendable {
    case plain(Conv2D)
    case grouped(GroupedConv2D)

    init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        if dilation == 1 && groups == 1 {
            self = .plain(Conv2D(weight: weight, bias: bias, stride: stride, padding: padding))
        } else {
            self = .grouped(GroupedConv2D(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups))
        }
    }

    /// The layer at `w` (`w.weight`, and `w.bias` when `bias`), its weight checked to be
    /// `[out, in / groups, k, k]` when `out`/`in` are given.
    init(_ w: DetectorWeights.Scope, in inChannels: Int? = nil, out: Int? = nil, kernel: Int, stride: Int = 1,
         padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) throws {
        let weight = try Self.weight(w, in: inChannels, out: out, kernel: kernel, groups: groups)
        let biasTensor = bias ? try w.tensor("bias", shape: [weight.shape[0]]) : nil
        self.init(weight: weight, bias: biasTensor, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// A convolution without bias at `conv` followed by the eval-mode `BatchNorm2d` at `norm`,
    /// folded into one layer (`BatchNorm.folded`); `epsilon` is the norm's (TensorFlow ports use 1e-3).
    init(_ conv: DetectorWeights.Scope, batchNorm norm: DetectorWeights.Scope, in inChannels: Int? = nil, out: Int? = nil,
         kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = false,
         epsilon: Float = 1e-5) throws {
        let weight = try Self.weight(conv, in: inChannels, out: out, kernel: kernel, groups: groups)
        let channels = [weight.shape[0]]
        let batchNorm = BatchNorm(weight: try norm.tensor("weight", shape: channels), bias: try norm.tensor("bias", shape: channels),
                                  runningMean: try norm.tensor("running_mean", shape: channels),
                                  runningVar: try norm.tensor("running_var", shape: channels), epsilon: epsilon)
        let folded = batchNorm.folded(weight: weight, bias: bias ? try conv.tensor("bias", shape: channels) : nil)
        self.init(weight: folded.weight, bias: folded.bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    private static func weight(_ w: DetectorWeights.Scope, in inChannels: Int?, out: Int?, kernel: Int, groups: Int) throws -> Tensor {
        let shape = try w.shape("weight")
        let expected = [out ?? shape.first ?? 0, (inChannels ?? (shape.count > 1 ? shape[1] * groups : 0)) / groups, kernel, kernel]
        return try w.tensor("weight", shape: expected)
    }

    var outChannels: Int {
        switch self {
        case .plain(let conv): return conv.outChannels
        case .grouped(let conv): return conv.outChannels
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .plain(let conv): return conv(x)
        case .grouped(let conv): return conv(x)
        }
    }
}

extension Tensor {
    /// `torch.relu`.
    func relu() -> Tensor { map { max($0, 0) } }
    /// `torch.nn.ReLU6`: MobileNet's activation.
    func relu6() -> Tensor { map { min(max($0, 0), 6) } }
}
