// Follows geffnet's conv2d_layers.py (create_conv2d_pad with padding 'same', Conv2dSame), as
// controlnet_aux 0.0.10 vendors it for NormalBae's encoder.
import DiffusionCore

/// A convolution with TensorFlow's "same" padding: as geffnet decides, a layer whose padding
/// does not depend on the input (stride 1, odd kernel) pads `(k - 1) / 2` on every side; any
/// other pads each input as `Tensor.samePadding` says, the odd row and column after.
struct Conv2dSame: Sendable {
    let conv: Convolution
    let kernel: Int
    let stride: Int
    let isStatic: Bool

    /// The layer at `w` (no bias), followed by the eval-mode BatchNorm at `batchNorm` folded into
    /// it; `groups` equal to the channels makes it depthwise.
    init(_ w: DetectorWeights.Scope, batchNorm: DetectorWeights.Scope, in inChannels: Int, out: Int? = nil,
         kernel: Int, stride: Int = 1, groups: Int = 1, epsilon: Float) throws {
        isStatic = stride == 1 && kernel % 2 == 1
        conv = try Convolution(w, batchNorm: batchNorm, in: inChannels, out: out, kernel: kernel, stride: stride,
                               padding: isStatic ? (kernel - 1) / 2 : 0, groups: groups, epsilon: epsilon)
        self.kernel = kernel
        self.stride = stride
    }

    var outChannels: Int { conv.outChannels }

    func callAsFunction(_ x: Tensor) -> Tensor {
        guard !isStatic else { return conv(x) }
        let rows = Tensor.samePadding(size: x.shape[1], kernel: kernel, stride: stride)
        let columns = Tensor.samePadding(size: x.shape[2], kernel: kernel, stride: stride)
        return conv(x.padded(top: rows.before, bottom: rows.after, left: columns.before, right: columns.after))
    }
}
