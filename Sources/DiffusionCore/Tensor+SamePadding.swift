/// TensorFlow's "same" padding of NHWC tensors, as the EfficientNet ports that keep TensorFlow's
/// weights run it (geffnet's `Conv2dSame`, timm's `pad_same`).
extension Tensor {
    /// The zeros "same" adds before and after one axis of `size` for a kernel of `kernel` taps
    /// (spread by `dilation`) at `stride`: enough for `ceil(size / stride)` outputs, the odd one
    /// after, so a stride-2 layer on an even size pads only the bottom or right.
    public static func samePadding(size: Int, kernel: Int, stride: Int, dilation: Int = 1) -> (before: Int, after: Int) {
        let outputs = (size + stride - 1) / stride
        let total = max((outputs - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        return (total / 2, total - total / 2)
    }

    /// An NHWC tensor with zero rows above and below and zero columns left and right
    /// (`F.pad(x, [left, right, top, bottom])`).
    public func padded(top: Int, bottom: Int, left: Int, right: Int) -> Tensor {
        precondition(rank == 4 && min(top, bottom, left, right) >= 0, "padding \(shape) by \([top, bottom, left, right])")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (height, width) = (h + top + bottom, w + left + right)
        let result = Tensor(shape: [n, height, width, c])
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * h, minimumPerThread: 16) { row in
            let (b, y) = (row / h, row % h)
            (dst + ((b * height + y + top) * width + left) * c).update(from: src + row * w * c, count: w * c)
        }
        return result
    }
}
