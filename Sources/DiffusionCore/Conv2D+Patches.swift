/// The convolution as one matrix product: every output pixel's receptive field is gathered into
/// a row of a `[pixels, kh * kw * in]` patch matrix (im2col), which multiplies the tap-major
/// `[kh * kw * in, out]` weights through BLAS. The gather costs a copy of the input per tap, so
/// this pays only where the product is all there is: a deep layer on a few pixels, whose weights
/// Winograd would have to transform for very few tiles (`Conv2D.winogradAlgorithm(for:)`).
extension Conv2D {
    func patches(_ x: Tensor, into y: inout Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[1], x.shape[2])
        let (oh, ow) = (y.shape[1], y.shape[2])
        let (pixels, patch) = (batch * oh * ow, kernelHeight * kernelWidth * inChannels)
        let (source, output) = (x.storage.pointer, y.storage.pointer)
        ScratchPool.withFloats(pixels * patch) { columns in
            Parallel.forEachRange(pixels, minimumPerThread: 16) { range in
                for p in range {
                    let (n, oy, ox) = (p / (oh * ow), p / ow % oh, p % ow)
                    for ky in 0..<kernelHeight {
                        for kx in 0..<kernelWidth {
                            let (iy, ix) = (oy * stride - padding + ky, ox * stride - padding + kx)
                            let row = columns + p * patch + (ky * kernelWidth + kx) * inChannels
                            if iy >= 0 && iy < height && ix >= 0 && ix < width {
                                row.update(from: source + ((n * height + iy) * width + ix) * inChannels, count: inChannels)
                            } else {
                                row.update(repeating: 0, count: inChannels)
                            }
                        }
                    }
                    if let bias { (output + p * outChannels).update(from: bias.storage.pointer, count: outChannels) }
                }
            }
            weights.withFloat32 { w in
                BLAS.sgemm(m: pixels, n: outChannels, k: patch, a: columns, lda: patch, b: w, ldb: outChannels,
                           beta: bias == nil ? 0 : 1, c: output, ldc: outChannels)
            }
        }
    }
}
