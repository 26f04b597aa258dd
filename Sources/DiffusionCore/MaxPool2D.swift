/// 2-D max pooling of NHWC tensors, as torch's `nn.MaxPool2d(kernel_size, stride, padding,
/// ceil_mode=...)` (no dilation).
///
/// Padding counts as minus infinity, so it never wins. With `ceilMode` the output size rounds
/// up, but, as torch, a last window that would start in the right or bottom padding is dropped.
public struct MaxPool2D: Sendable {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let ceilMode: Bool

    /// Torch's defaults: the stride is the kernel size, no padding, floor rounding.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        precondition(kernelSize > 0 && (stride ?? 1) > 0 && padding >= 0 && 2 * padding <= kernelSize,
                     "max pool: kernel \(kernelSize), stride \(String(describing: stride)), padding \(padding)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
    }

    /// The pooled length of an axis of `size` elements (torch's `pooling_output_shape`).
    public func outputSize(_ size: Int) -> Int {
        let span = size + 2 * padding - kernelSize
        guard span >= 0 else { return 0 }
        var count = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        if ceilMode, (count - 1) * stride >= size + padding { count -= 1 }
        return count
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "max pool needs NHWC, got \(x.shape)")
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outH, outW) = (outputSize(h), outputSize(w))
        let result = Tensor(uninitializedShape: [n, outH, outW, c])
        let src = x.storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * outH, minimumPerThread: 4) { row in
            let (b, oy) = (row / outH, row % outH)
            let y0 = max(oy * stride - padding, 0), y1 = min(oy * stride - padding + kernelSize, h)
            for ox in 0..<outW {
                let x0 = max(ox * stride - padding, 0), x1 = min(ox * stride - padding + kernelSize, w)
                let out = dst + (row * outW + ox) * c
                out.initialize(repeating: -.infinity, count: c)
                for y in y0..<y1 {
                    for xx in x0..<x1 {
                        let input = src + ((b * h + y) * w + xx) * c
                        // NaN propagates, as in torch (`!(value <= current)` keeps it).
                        for k in 0..<c where !(input[k] <= out[k]) { out[k] = input[k] }
                    }
                }
            }
        }
        return result
    }
}
