/// `torch.nn.ConvTranspose2d` (groups = 1) on NHWC tensors, with any kernel, stride, padding,
/// output padding and dilation.
///
/// Each input pixel spreads its channels over a `kh x kw` window of the output: one BLAS product
/// of the input pixels `[pixels, in]` with the weights laid out `[in, kh * kw * out]` gives every
/// pixel's contribution to every tap, which is then added into the output ("col2im", as torch
/// computes it on the CPU). The input goes through in bands of rows so that the product stays a
/// few megabytes; within a band, each output row gathers its taps on one thread, so threads never
/// write the same row.
public struct ConvTranspose2D: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int
    public let dilation: Int
    /// `[in, kh, kw, out]`: row `ci` holds the contribution of input channel `ci` to every tap.
    let weights: Tensor
    let bias: Tensor?

    /// Floats of one band's product (8 MB): the band's rows times the taps' channels.
    static let bandFloats = 1 << 21

    /// - Parameter weight: `[in, out, kh, kw]`, as torch stores a transposed convolution's.
    ///   `outputPadding` must be smaller than `stride` or `dilation`, as torch requires.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, dilation: Int = 1) {
        precondition(weight.rank == 4, "a transposed conv weight is [in, out, kh, kw], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[1]], "transposed conv bias \(bias!.shape) for weight \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && dilation >= 1 && outputPadding >= 0 && outputPadding < max(stride, dilation),
                     "transposed conv stride \(stride), padding \(padding), output padding \(outputPadding), dilation \(dilation)")
        (inChannels, outChannels, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.bias = bias
        let (o, taps, source) = (outChannels, kernelHeight * kernelWidth, weight.scalars)
        weights = Tensor(shape: [inChannels, kernelHeight, kernelWidth, o], values: (0..<inChannels * taps * o).map { i in
            let (ci, tap, co) = (i / (taps * o), i / o % taps, i % o)
            return source[(ci * o + co) * taps + tap]
        })
    }

    /// The output's spatial size for an input of `height` x `width` (torch's formula).
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        func side(_ n: Int, _ k: Int) -> Int { (n - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1 }
        return (side(height, kernelHeight), side(width, kernelWidth))
    }

    /// `[n, h, w, in]` to `[n, oh, ow, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[3] == inChannels, "transposed conv of \(inChannels) channels applied to \(x.shape)")
        let (oh, ow) = outputSize(height: x.shape[1], width: x.shape[2])
        precondition(oh > 0 && ow > 0, "transposed conv output \(oh)x\(ow) for input \(x.shape)")
        let flops = 2.0 * Double(x.count) * Double(outChannels * kernelHeight * kernelWidth)
        return Profile.measure(.convolution, flops: flops) { convolve(x, outputSize: (oh, ow)) }
    }

    private func convolve(_ x: Tensor, outputSize: (height: Int, width: Int)) -> Tensor {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let y = Tensor(shape: [batch, outputSize.height, outputSize.width, outChannels])
        let perPixel = kernelHeight * kernelWidth * outChannels
        let bandRows = max(1, min(height, Self.bandFloats / max(1, width * perPixel)))
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: bandRows * width * perPixel)
        defer { columns.deallocate() }
        for n in 0..<batch {
            for first in Swift.stride(from: 0, to: height, by: bandRows) {
                let rows = first..<min(height, first + bandRows)
                BLAS.sgemm(m: rows.count * width, n: perPixel, k: inChannels,
                           a: x.storage.pointer + (n * height + first) * width * inChannels, lda: inChannels,
                           b: weights.storage.pointer, ldb: perPixel, c: columns, ldc: perPixel)
                scatter(columns, rows: rows, width: width, into: y.storage.pointer + n * y.count / batch, outputSize: outputSize)
            }
        }
        if let bias {
            let b = bias.storage.pointer, out = y.storage.pointer, channels = outChannels
            Parallel.forEachRange(y.count / channels, minimumPerThread: 4096) { pixels in
                for p in pixels {
                    for c in 0..<channels { out[p * channels + c] += b[c] }
                }
            }
        }
        return y
    }

    /// Adds the band's contributions (`columns`, one row of `kh * kw * out` per input pixel of
    /// `rows`) into the output rows they reach: output `o` takes input `i`'s tap `k` when
    /// `o = i * stride - padding + k * dilation`.
    private func scatter(_ columns: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int,
                         into y: UnsafeMutablePointer<Float>, outputSize: (height: Int, width: Int)) {
        let (oh, ow, channels) = (outputSize.height, outputSize.width, outChannels)
        let (kh, kw, stride, padding, dilation) = (kernelHeight, kernelWidth, stride, padding, dilation)
        let firstRow = max(0, rows.lowerBound * stride - padding)
        let lastRow = min(oh - 1, (rows.upperBound - 1) * stride - padding + dilation * (kh - 1))
        guard firstRow <= lastRow else { return }
        Parallel.forEach(lastRow - firstRow + 1) { r in
            let oy = firstRow + r
            for ky in 0..<kh {
                let t = oy + padding - ky * dilation
                guard t >= 0, t % stride == 0, rows.contains(t / stride) else { continue }
                let band = columns + (t / stride - rows.lowerBound) * width * kh * kw * channels
                for ix in 0..<width {
                    for kx in 0..<kw {
                        let ox = ix * stride - padding + kx * dilation
                        guard ox >= 0 && ox < ow else { continue }
                        let (d, s) = (y + (oy * ow + ox) * channels, band + ((ix * kh + ky) * kw + kx) * channels)
                        for c in 0..<channels { d[c] += s[c] }
                    }
                }
            }
        }
    }
}
