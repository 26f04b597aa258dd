/// `torch.nn.Conv2d` (groups = 1, dilation = 1) on NHWC tensors.
///
/// Weights are repacked once, at construction, for the kernel that will run them:
/// a 1x1 stride-1 convolution is one matrix product through BLAS; a wide 3x3 stride-1
/// convolution runs Winograd F(2x2, 3x3) (`Conv2D+Winograd.swift`, 2.25x fewer multiplications);
/// every other shape runs the direct SIMD kernel in `Conv2D+Direct.swift`, which reads the input
/// in place (no im2col buffer) against weights packed as `[outBlock, kh, kw, in, 16]`.
public struct Conv2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    /// PyTorch's `[out, in, kh, kw]` weight, kept for the 1x1 matrix-product path only.
    let weight: Tensor
    /// The direct kernel's layout; empty for the other algorithms.
    let packed: Tensor
    /// The Winograd transformed weights, for `.winograd`.
    let winogradWeights: WinogradWeights?
    let bias: Tensor?
    public let algorithm: Algorithm

    /// How a convolution runs.
    public enum Algorithm: Sendable {
        /// 1x1, stride 1, no padding: one matrix product through BLAS.
        case pointwise
        /// The register-blocked SIMD kernel (`Conv2D+Direct.swift`): any kernel, stride, padding.
        case direct
        /// Winograd F(2x2, 3x3) with BLAS products (`Conv2D+Winograd.swift`): 3x3, stride 1, padding 1.
        case winograd

        /// Whether the algorithm computes a convolution of this geometry.
        func runs(kernel: (Int, Int), stride: Int, padding: Int) -> Bool {
            switch self {
            case .pointwise: return kernel == (1, 1) && stride == 1 && padding == 0
            case .direct: return true
            case .winograd: return kernel == (3, 3) && stride == 1 && padding == 1
            }
        }

        /// The fastest algorithm for the shape: Winograd for 3x3/1/1 convolutions wide enough that
        /// its 16 products are real matrix products (both channel counts at least 64).
        static func best(kernel: (Int, Int), stride: Int, padding: Int, channels: (in: Int, out: Int)) -> Algorithm {
            if pointwise.runs(kernel: kernel, stride: stride, padding: padding) { return .pointwise }
            if winograd.runs(kernel: kernel, stride: stride, padding: padding) && min(channels.in, channels.out) >= 64 {
                return .winograd
            }
            return .direct
        }
    }

    /// The output channels one direct-kernel pass computes: two 8-wide SIMD registers.
    static let outBlock = 16

    /// - Parameter algorithm: forces an algorithm (tests compare them); by default the fastest
    ///   one for the shape. Forcing one the shape does not allow is a programming error.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, algorithm: Algorithm? = nil) {
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
        let kernel = (kernelHeight, kernelWidth)
        let chosen = algorithm ?? .best(kernel: kernel, stride: stride, padding: padding, channels: (inChannels, outChannels))
        precondition(chosen.runs(kernel: kernel, stride: stride, padding: padding),
                     "\(chosen) cannot run a \(kernelHeight)x\(kernelWidth) convolution with stride \(stride), padding \(padding)")
        self.algorithm = chosen
        // Each algorithm keeps only the layout it reads: holding several would multiply the
        // weights' memory (2.2 GB more for the SD1.5 UNet per extra copy).
        self.weight = chosen == .pointwise ? weight : Tensor(shape: [0])
        packed = chosen == .direct ? Conv2D.pack(weight) : Tensor(shape: [0])
        winogradWeights = chosen == .winograd ? WinogradWeights(weight) : nil
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
        switch algorithm {
        case .pointwise: pointwise(x, into: &y)
        case .direct: direct(x, into: &y)
        case .winograd: winograd(x, weights: winogradWeights!, into: &y)
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
