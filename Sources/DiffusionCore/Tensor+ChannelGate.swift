/// The per-channel statistics and scaling of a squeeze-and-excitation block, on NHWC tensors.
extension Tensor {
    /// The mean of each channel over the pixels of each image (`x.mean((2, 3))` in NCHW):
    /// `[n, h, w, c]` to `[n, c]`, summed in double so the order of the sum does not matter.
    public func spatialMean() -> Tensor {
        precondition(rank == 4, "spatial mean needs NHWC, got \(shape)")
        let (n, pixels, c) = (shape[0], shape[1] * shape[2], shape[3])
        let result = Tensor(uninitializedShape: [n, c])
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n) { b in
            var sums = [Double](repeating: 0, count: c)
            for p in 0..<pixels {
                let pixel = src + (b * pixels + p) * c
                for k in 0..<c { sums[k] += Double(pixel[k]) }
            }
            for k in 0..<c { dst[b * c + k] = Float(sums[k] / Double(pixels)) }
        }
        return result
    }

    /// Each channel of each image multiplied by its gate: `x * gates[:, :, None, None]` in
    /// NCHW, for an NHWC `x` and `gates` of shape `[n, c]`.
    public func scalingChannels(by gates: Tensor) -> Tensor {
        precondition(rank == 4 && gates.shape == [shape[0], shape[3]], "channel gates \(gates.shape) for \(shape)")
        let (pixels, c) = (shape[1] * shape[2], shape[3])
        let result = Tensor(uninitializedShape: shape)
        let src = storage.pointer, dst = result.storage.pointer, gate = gates.storage.pointer
        Parallel.forEach(shape[0] * pixels, minimumPerThread: 256) { p in
            let (input, output, scale) = (src + p * c, dst + p * c, gate + p / pixels * c)
            for k in 0..<c { output[k] = input[k] * scale[k] }
        }
        return result
    }
}
