/// `torch.nn.Conv2d` (groups = 1, dilation = 1) on NHWC tensors.
///
/// Weights are repacked once, at construction, for the kernel that will run them:
/// a 1x1 stride-1 convolution is one matrix product through BLAS; a wide 3x3 stride-1
/// convolution runs Winograd (`Conv2D+Winograd.swift`), F(4x4, 3x3) (4x fewer multiplications)
/// on inputs of many tiles, F(2x2, 3x3) (2.25x fewer) on fewer, and on inputs too small for
/// either to pay the patch-matrix product of `Conv2D+Patches.swift`, all three on the same
/// weights; every other shape runs the direct kernel in `Conv2D+Direct.swift`,
/// which reads the input in place (no im2col buffer) against weights packed as `[outBlock, kh, kw, in, 16]`.
public struct Conv2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    /// The weights in the layout `algorithm` reads, in the precision they were given (a float16
    /// checkpoint stays float16 and is widened per call): `[out, in]` for `.pointwise`,
    /// `[ceil(out / 16), kh, kw, in, 16]` for `.direct`, `[kh * kw, in, out]` (one matrix per tap)
    /// for `.winograd` and `.winograd4x4`, whose `G g G^T` transform runs per call
    /// (`Conv2D+Winograd.swift`), and `.patches`.
    let weights: WeightArray
    let bias: Tensor?
    public let algorithm: Algorithm
    /// Whether a `.winograd4x4` layer may run `.winograd` or `.patches` on inputs too small for
    /// F(4x4) to pay (`Conv2D.winogradAlgorithm(for:)`): when the algorithm was chosen for the
    /// layer, not forced.
    private let adaptsToInput: Bool

    /// How a convolution runs.
    public enum Algorithm: Sendable {
        /// 1x1, stride 1, no padding: one matrix product through BLAS.
        case pointwise
        /// The register-blocked kernel (`Conv2D+Direct.swift`): any kernel, stride, padding.
        case direct
        /// Winograd F(2x2, 3x3) with BLAS products (`Conv2D+Winograd.swift`, Sources/CKernels/winograd.h):
        /// 3x3, stride 1, padding 1.
        case winograd
        /// Winograd F(4x4, 3x3), the same way: 3x3, stride 1, padding 1.
        case winograd4x4
        /// A patch matrix (im2col) times the weights, one BLAS product (`Conv2D+Patches.swift`): any geometry.
        case patches

        /// Whether the algorithm computes a convolution of this geometry.
        func runs(kernel: (Int, Int), stride: Int, padding: Int) -> Bool {
            switch self {
            case .pointwise: return kernel == (1, 1) && stride == 1 && padding == 0
            case .direct, .patches: return true
            case .winograd, .winograd4x4: return kernel == (3, 3) && stride == 1 && padding == 1
            }
        }

        /// The fastest algorithm for the shape: Winograd for 3x3/1/1 convolutions wide enough that
        /// its products are real matrix products (both channel counts at least 64), F(4x4) on the
        /// inputs large enough for it (see `adaptsToInput`).
        static func best(kernel: (Int, Int), stride: Int, padding: Int, channels: (in: Int, out: Int)) -> Algorithm {
            if pointwise.runs(kernel: kernel, stride: stride, padding: padding) { return .pointwise }
            if winograd4x4.runs(kernel: kernel, stride: stride, padding: padding) && min(channels.in, channels.out) >= 64 {
                return .winograd4x4
            }
            return .direct
        }
    }

    /// The width of the direct kernel's weight panels: output channels per block of `pack`.
    static let outBlock = 16

    /// - Parameter algorithm: forces an algorithm (tests compare them); by default the fastest
    ///   one for the shape. Forcing one the shape does not allow is a programming error.
    public init(weight: WeightArray, bias: Tensor?, stride: Int = 1, padding: Int = 0, algorithm: Algorithm? = nil) {
        precondition(weight.shape.count == 4, "a conv weight is [out, in, kh, kw], got \(weight.shape)")
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
        adaptsToInput = algorithm == nil
        // Each algorithm keeps only the layout it reads: holding several would multiply the
        // weights' memory (2.2 GB more for the SD1.5 UNet per extra copy).
        switch chosen {
        case .pointwise: weights = weight.reshaped([outChannels, inChannels])
        case .direct: weights = Conv2D.pack(weight)
        case .winograd, .winograd4x4, .patches: weights = Conv2D.tapMajor(weight)
        }
    }

    /// A float32 weight.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, algorithm: Algorithm? = nil) {
        self.init(weight: WeightArray(weight), bias: bias, stride: stride, padding: padding, algorithm: algorithm)
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
        let flops = 2.0 * Double(x.shape[0] * oh * ow) * Double(inChannels * outChannels * kernelHeight * kernelWidth)
        return Profile.measure(.convolution, flops: flops) { convolve(x, outputSize: (oh, ow)) }
    }

    private func convolve(_ x: Tensor, outputSize: (height: Int, width: Int)) -> Tensor {
        let (oh, ow) = outputSize
        var y = Tensor(uninitializedShape: [x.shape[0], oh, ow, outChannels])
        switch algorithm == .winograd4x4 && adaptsToInput ? winogradAlgorithm(for: x) : algorithm {
        case .pointwise:
            BLAS.product(x.storage.pointer, rows: x.count / inChannels, weight: weights, bias: bias, into: y.storage.pointer)
        case .direct: weights.withFloat32 { direct(x, packed: $0, into: &y) }
        case .winograd: winograd(x, side: 2, into: &y)
        case .winograd4x4: winograd(x, side: 4, into: &y)
        case .patches: patches(x, into: &y)
        }
        return y
    }

    /// `[out, in, kh, kw]` to `[ceil(out / 16), kh, kw, in, 16]`, zero-filling the last block.
    private static func pack(_ weight: WeightArray) -> WeightArray {
        let (o, i, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        return weight.rearranged(to: [(o + outBlock - 1) / outBlock, kh, kw, i, outBlock]) { index in
            let (co, ci, ky, kx) = (index / (i * kh * kw), index / (kh * kw) % i, index / kw % kh, index % kw)
            return (((co / outBlock * kh + ky) * kw + kx) * i + ci) * outBlock + co % outBlock
        }
    }

    /// `[out, in, kh, kw]` to `[kh * kw, in, out]`: the rows Winograd's weight transform reads as
    /// vectors, and the `[kh * kw * in, out]` matrix a patch matrix multiplies.
    private static func tapMajor(_ weight: WeightArray) -> WeightArray {
        let (o, i, taps) = (weight.shape[0], weight.shape[1], weight.shape[2] * weight.shape[3])
        return weight.rearranged(to: [taps, i, o]) { index in
            let (co, ci, tap) = (index / (i * taps), index / taps % i, index % taps)
            return (tap * i + ci) * o + co
        }
    }
}
