/// 2-D adaptive average pooling of NHWC tensors, as torch's `nn.AdaptiveAvgPool2d(size)`.
///
/// Output cell `i` of an axis of `in` input positions averages positions
/// `floor(i * in / out) ..< ceil((i + 1) * in / out)`: cells overlap when `out` does not divide
/// `in`, and repeat inputs when `out` is larger than `in` (PSPNet's pooling pyramid asks for 6
/// cells of whatever the feature map has).
public struct AdaptiveAvgPool2D: Sendable {
    public let outputHeight: Int
    public let outputWidth: Int

    public init(outputHeight: Int, outputWidth: Int) {
        precondition(outputHeight > 0 && outputWidth > 0, "adaptive pool to \(outputHeight)x\(outputWidth)")
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// A square output, `nn.AdaptiveAvgPool2d(size)` with one integer.
    public init(outputSize: Int) {
        self.init(outputHeight: outputSize, outputWidth: outputSize)
    }

    /// The input range output cell `index` of an axis averages (torch's `start_index`, `end_index`).
    static func cell(_ index: Int, inSize: Int, outSize: Int) -> Range<Int> {
        (index * inSize / outSize)..<(((index + 1) * inSize + outSize - 1) / outSize)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] > 0 && x.shape[2] > 0, "adaptive pool needs a non-empty NHWC tensor, got \(x.shape)")
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let result = Tensor(uninitializedShape: [n, outputHeight, outputWidth, c])
        let src = x.storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * outputHeight, minimumPerThread: 1) { row in
            let (b, oy) = (row / outputHeight, row % outputHeight)
            let rows = Self.cell(oy, inSize: h, outSize: outputHeight)
            for ox in 0..<outputWidth {
                let columns = Self.cell(ox, inSize: w, outSize: outputWidth)
                let out = dst + (row * outputWidth + ox) * c
                out.initialize(repeating: 0, count: c)
                for y in rows {
                    for xx in columns {
                        let input = src + ((b * h + y) * w + xx) * c
                        for k in 0..<c { out[k] += input[k] }
                    }
                }
                let area = Float(rows.count * columns.count)
                for k in 0..<c { out[k] /= area }
            }
        }
        return result
    }
}
