import Foundation

/// `torch.nn.GroupNorm` over an NHWC tensor: statistics per (batch, group of channels)
/// over every pixel, then the per-channel affine. An activation can be fused into the
/// write, as every ResnetBlock2D follows its norms with SiLU.
public struct GroupNorm: Sendable {
    public let groups: Int
    public let epsilon: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(groups: Int, epsilon: Float, weight: Tensor, bias: Tensor) {
        precondition(weight.rank == 1 && weight.shape == bias.shape, "group norm affine \(weight.shape) / \(bias.shape)")
        precondition(groups > 0 && weight.count % groups == 0, "\(weight.count) channels do not split into \(groups) groups")
        self.groups = groups
        self.epsilon = epsilon
        self.weight = weight
        self.bias = bias
    }

    public func callAsFunction(_ x: Tensor, activation: Activation? = nil) -> Tensor {
        precondition(x.shape.last == weight.count, "group norm of \(weight.count) channels applied to \(x.shape)")
        return Profile.measure(.normalization, flops: 0) { normalize(x, activation: activation) }
    }

    private func normalize(_ x: Tensor, activation: Activation?) -> Tensor {
        let channels = weight.count
        let batch = x.shape[0]
        let pixels = x.count / (batch * channels)
        let y = Tensor(uninitializedShape: x.shape)
        let kernels = Kernels.current
        for n in 0..<batch {
            let src = x.storage.pointer + n * pixels * channels
            let dst = y.storage.pointer + n * pixels * channels
            let (scale, shift) = channelAffine(src, pixels: pixels, kernels)
            scale.withUnsafeBufferPointer { scale in
                shift.withUnsafeBufferPointer { shift in
                    Parallel.forEachRange(pixels, minimumPerThread: max(1, 8192 / channels)) { range in
                        for p in range {
                            let s = src + p * channels, d = dst + p * channels
                            kernels.scaleShift(s, scale: scale.baseAddress!, shift: shift.baseAddress!, count: channels, into: d)
                            if let activation { kernels.apply(activation, d, d, count: channels) }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Folds each group's mean and variance with the affine into one scale and shift per channel.
    private func channelAffine(_ src: UnsafePointer<Float>, pixels: Int, _ kernels: Kernels) -> (scale: [Float], shift: [Float]) {
        let channels = weight.count, perGroup = channels / groups
        let (sums, squares) = channelSums(src, pixels: pixels, channels: channels, kernels)
        var scale = [Float](repeating: 0, count: channels), shift = scale
        let n = Double(pixels * perGroup)
        for g in 0..<groups {
            let range = g * perGroup..<(g + 1) * perGroup
            let mean = range.reduce(0) { $0 + sums[$1] } / n
            let variance = max(0, range.reduce(0) { $0 + squares[$1] } / n - mean * mean)
            let inverse = 1 / (variance + Double(epsilon)).squareRoot()
            for c in range {
                scale[c] = Float(Double(weight[flat: c]) * inverse)
                shift[c] = Float(Double(bias[flat: c]) - mean * Double(weight[flat: c]) * inverse)
            }
        }
        return (scale, shift)
    }
}

/// Per-channel sums and sums of squares over the pixels of one NHWC image, accumulated in
/// Double so a 64x64x320 group's variance keeps float32 precision.
func channelSums(_ src: UnsafePointer<Float>, pixels: Int, channels: Int, _ kernels: Kernels) -> (sums: [Double], squares: [Double]) {
    let threads = max(1, min(Parallel.threadCount, pixels / 64))
    var partial = [Double](repeating: 0, count: threads * channels * 2)
    partial.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        Parallel.forEach(threads) { t in
            let sums = base + t * channels * 2, (first, end) = (pixels * t / threads, pixels * (t + 1) / threads)
            kernels.addChannelSums(src + first * channels, pixels: end - first, channels: channels, sums: sums, squares: sums + channels)
        }
    }
    var sums = [Double](repeating: 0, count: channels), squares = sums
    for t in 0..<threads {
        for c in 0..<channels {
            sums[c] += partial[t * channels * 2 + c]
            squares[c] += partial[t * channels * 2 + channels + c]
        }
    }
    return (sums, squares)
}

/// `torch.nn.LayerNorm` over the last axis.
public struct LayerNorm: Sendable {
    public let epsilon: Float
    public let weight: Tensor
    public let bias: Tensor?

    public init(epsilon: Float, weight: Tensor, bias: Tensor?) {
        self.epsilon = epsilon
        self.weight = weight
        self.bias = bias
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == weight.count, "layer norm of \(weight.count) features applied to \(x.shape)")
        return Profile.measure(.normalization, flops: 0) { normalize(x) }
    }

    private func normalize(_ x: Tensor) -> Tensor {
        let width = weight.count
        let y = Tensor(uninitializedShape: x.shape)
        let src = x.storage.pointer, dst = y.storage.pointer
        let gamma = weight.storage.pointer, beta = bias?.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(x.count / width, minimumPerThread: max(1, 8192 / width)) { rows in
            for r in rows {
                kernels.layerNorm(src + r * width, width: width, epsilon: epsilon, gamma: gamma, beta: beta, into: dst + r * width)
            }
        }
        return y
    }
}

extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        var y = self
        let width = shape.last ?? 1
        let kernels = Kernels.current
        y.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            Parallel.forEachRange(count / width, minimumPerThread: max(1, 8192 / width)) { rows in
                for r in rows {
                    // Shifted by the row's maximum, as torch does.
                    let row = base + r * width
                    let sum = kernels.exponentiateRow(row, count: width, maximum: kernels.rowMaximum(row, count: width))
                    kernels.scale(row, by: 1 / sum, count: width, into: row)
                }
            }
        }
        return y
    }
}
