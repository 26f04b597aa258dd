/// `torch.nn.Conv2d` (groups = 1, dilation = 1) on NHWC tensors.
///
/// Weights are repacked once, at construction, for the kernel that will run them:
/// a 1x1 stride-1 convolution is one matrix product through BLAS; every other shape runs
/// the direct SIMD kernel in `Conv2D+Direct.swift`, which reads the input in place
/// (no im2col buffer) against weights packed as `[outBlock, kh, kw, in, 16]`.
public struct Conv2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    /// PyTorch's `[out, in, kh, kw]` weight, kept for the 1x1 matrix-product path only.
    let weight: Tensor
    /// The direct kernel's layout; empty for 1x1 stride-1 convolutions.
    let packed: Tensor
    let bias: Tensor?

    /// The output channels one direct-kernel pass computes: two 8-wide SIMD registers.
    static let outBlock = 16

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4, "a conv weight is [out, in, kh, kw], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "conv bias \(bias!.shape) for weight \(weight.shape)")
        precondition(stride >= 1 && padding >= 0, "conv stride \(stride), padding \(padding)")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1]
        kernelHeight = weight.shape[2]
        kernelWidth = weight.shape[3]
        self.stride = stride
        self.padding = padding
        self.bias = bias
        let pointwise = kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
        // Each path keeps only the layout it reads: holding both would double the weights' memory
        // (2.2 GB more for the SD1.5 UNet).
        self.weight = pointwise ? weight : Tensor(shape: [0])
        packed = pointwise ? Tensor(shape: [0]) : Conv2D.pack(weight)
    }

    /// The output's spatial size for an input of `height` x `width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelHeight) / stride + 1, (width + 2 * padding - kernelWidth) / stride + 1)
    }

    /// Convolves an NHWC input `[n, h, w, in]` into `[n, oh, ow, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[3] == inChannels, "conv of \(inChannels) channels applied to \(x.shape)")
        let (oh, ow) = outputSize(height: x.shape[1], width: x.shape[2])
        precondition(oh > 0 && ow > 0, "conv kernel \(kernelHeight)x\(kernelWidth) larger than padded input \(x.shape)")
        var y = Tensor(uninitializedShape: [x.shape[0], oh, ow, outChannels])
        if packed.count == 0 {
            pointwise(x, into: &y)
        } else {
            direct(x, into: &y)
        }
        return y
    }

    /// A 1x1 convolution is `[pixels, in] x [in, out]`.
    private func pointwise(_ x: Tensor, into y: inout Tensor) {
        let pixels = x.count / inChannels
        let out = y.storage.pointer
        if let bias {
            for p in 0..<pixels { (out + p * outChannels).initialize(from: bias.storage.pointer, count: outChannels) }
        }
        BLAS.sgemm(transposeB: true, m: pixels, n: outChannels, k: inChannels, a: x.storage.pointer, lda: inChannels,
                   b: weight.storage.pointer, ldb: inChannels, beta: bias == nil ? 0 : 1, c: out, ldc: outChannels)
    }

    /// `[out, in, kh, kw]` to `[ceil(out / 16), kh, kw, in, 16]`, zero-filling the last block.
    private static func pack(_ weight: Tensor) -> Tensor {
        let (o, i, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let blocks = (o + outBlock - 1) / outBlock
        var packed = Tensor(shape: [blocks, kh, kw, i, outBlock])
        let src = weight.storage.pointer, dst = packed.storage.pointer
        for co in 0..<o {
            for ci in 0..<i {
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let target = (((co / outBlock * kh + ky) * kw + kx) * i + ci) * outBlock + co % outBlock
                        dst[target] = src[((co * i + ci) * kh + ky) * kw + kx]
                    }
                }
            }
        }
        return packed
    }
}
