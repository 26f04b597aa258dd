/// `torch.nn.Conv2d` with `groups` or `dilation` other than 1, on NHWC tensors: the layers
/// `Conv2D` (whose fast paths assume both are 1) does not run, such as MobileNet's depthwise
/// convolutions and M-LSD's dilated one.
///
/// A depthwise convolution (one input and one output channel per group) runs a loop over the
/// contiguous channels of each pixel, which vectorizes; any other geometry runs, per group, a
/// dilated patch matrix (im2col) times the group's weights through BLAS, in chunks of pixels so
/// that the patch matrix stays small.
public struct GroupedConv2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let groups: Int
    /// Depthwise: `[kh * kw, channels]`, one row of channel weights per tap. Otherwise, per
    /// group, the tap-major `[kh * kw * inPerGroup, outPerGroup]` matrix a patch row multiplies.
    let weights: Tensor
    let bias: Tensor?

    /// Output pixels per patch matrix: at most 512 x 576 floats (1.2 MB) for a 3x3 layer of 64
    /// channels per group, which stays in L2 between the gather and the product.
    static let chunkPixels = 512

    /// - Parameter weight: `[out, in / groups, kh, kw]`, as torch stores it.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        precondition(weight.rank == 4 && groups >= 1 && weight.shape[0] % groups == 0,
                     "a grouped conv weight is [out, in / groups, kh, kw] with out divisible by \(groups), got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "conv bias \(bias!.shape) for weight \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && dilation >= 1, "conv stride \(stride), padding \(padding), dilation \(dilation)")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1] * groups
        kernelHeight = weight.shape[2]
        kernelWidth = weight.shape[3]
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        let (out, outPerGroup, inPerGroup) = (weight.shape[0], weight.shape[0] / groups, weight.shape[1])
        let (source, taps) = (weight.scalars, weight.shape[2] * weight.shape[3])
        if Self.isDepthwise(groups: groups, in: inPerGroup * groups, out: out) {
            weights = Tensor(shape: [taps, out], values: (0..<taps * out).map { i in source[(i % out) * taps + i / out] })
        } else {
            let patch = taps * inPerGroup
            weights = Tensor(shape: [groups, patch, outPerGroup], values: (0..<groups * patch * outPerGroup).map { i in
                let (g, row, o) = (i / (patch * outPerGroup), i / outPerGroup % patch, i % outPerGroup)
                let (tap, ci) = (row / inPerGroup, row % inPerGroup)
                return source[((g * outPerGroup + o) * inPerGroup + ci) * taps + tap]
            })
        }
    }

    private static func isDepthwise(groups: Int, in inChannels: Int, out outChannels: Int) -> Bool {
        groups > 1 && groups == inChannels && groups == outChannels
    }

    /// The output's spatial size for an input of `height` x `width` (torch's formula).
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1,
         (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1)
    }

    /// Convolves an NHWC input `[n, h, w, in]` into `[n, oh, ow, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[3] == inChannels, "conv of \(inChannels) channels applied to \(x.shape)")
        let (oh, ow) = outputSize(height: x.shape[1], width: x.shape[2])
        precondition(oh > 0 && ow > 0, "conv kernel \(kernelHeight)x\(kernelWidth) (dilation \(dilation)) larger than padded input \(x.shape)")
        var y = Tensor(uninitializedShape: [x.shape[0], oh, ow, outChannels])
        let flops = 2.0 * Double(y.count) * Double(inChannels / groups * kernelHeight * kernelWidth)
        Profile.measure(.convolution, flops: flops) {
            if Self.isDepthwise(groups: groups, in: inChannels, out: outChannels) {
                depthwise(x, into: &y)
            } else {
                patches(x, into: &y)
            }
        }
        return y
    }

    /// The input pixel under tap (ky, kx) of output pixel (oy, ox), or nil in the padding.
    @inline(__always)
    private func source(oy: Int, ox: Int, ky: Int, kx: Int, height: Int, width: Int) -> Int? {
        let (iy, ix) = (oy * stride - padding + ky * dilation, ox * stride - padding + kx * dilation)
        guard iy >= 0, iy < height, ix >= 0, ix < width else { return nil }
        return iy * width + ix
    }

    private func depthwise(_ x: Tensor, into y: inout Tensor) {
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], outChannels)
        let (oh, ow) = (y.shape[1], y.shape[2])
        let (input, output, w) = (x.storage.pointer, y.storage.pointer, weights.storage.pointer)
        let biasPointer = bias?.storage.pointer
        Parallel.forEach(batch * oh, minimumPerThread: 2) { row in
            let (n, oy) = (row / oh, row % oh)
            let image = input + n * height * width * channels
            for ox in 0..<ow {
                let out = output + (row * ow + ox) * channels
                if let biasPointer { out.update(from: biasPointer, count: channels) } else { out.update(repeating: 0, count: channels) }
                for ky in 0..<kernelHeight {
                    for kx in 0..<kernelWidth {
                        guard let pixel = source(oy: oy, ox: ox, ky: ky, kx: kx, height: height, width: width) else { continue }
                        let (s, tap) = (image + pixel * channels, w + (ky * kernelWidth + kx) * channels)
                        for c in 0..<channels { out[c] += s[c] * tap[c] }
                    }
                }
            }
        }
    }

    private func patches(_ x: Tensor, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (oh, ow) = (y.shape[1], y.shape[2])
        let (inPerGroup, outPerGroup) = (inChannels / groups, outChannels / groups)
        let patch = kernelHeight * kernelWidth * inPerGroup
        let (input, output, w) = (x.storage.pointer, y.storage.pointer, weights.storage.pointer)
        let pixels = batch * oh * ow
        let chunks = (pixels + Self.chunkPixels - 1) / Self.chunkPixels
        Parallel.forEach(chunks) { chunk in
            let first = chunk * Self.chunkPixels, count = min(Self.chunkPixels, pixels - first)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: count * patch) { buffer in
                let columns = buffer.baseAddress!
                for p in first..<first + count {
                    let out = output + p * outChannels
                    if let bias { out.update(from: bias.storage.pointer, count: outChannels) } else { out.update(repeating: 0, count: outChannels) }
                }
                for g in 0..<groups {
                    for p in 0..<count {
                        let (n, oy, ox) = ((first + p) / (oh * ow), (first + p) / ow % oh, (first + p) % ow)
                        for ky in 0..<kernelHeight {
                            for kx in 0..<kernelWidth {
                                let row = columns + p * patch + (ky * kernelWidth + kx) * inPerGroup
                                if let pixel = source(oy: oy, ox: ox, ky: ky, kx: kx, height: height, width: width) {
                                    row.update(from: input + (n * height * width + pixel) * inChannels + g * inPerGroup, count: inPerGroup)
                                } else {
                                    row.update(repeating: 0, count: inPerGroup)
                                }
                            }
                        }
                    }
                    BLAS.sgemm(m: count, n: outPerGroup, k: patch, a: columns, lda: patch, b: w + g * patch * outPerGroup,
                               ldb: outPerGroup, beta: 1, c: output + first * outChannels + g * outPerGroup, ldc: outChannels)
                }
            }
        }
    }
}
