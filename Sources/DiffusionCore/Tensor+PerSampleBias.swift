extension Tensor {
    /// Adds one channel vector per batch item: `x[n, ..., c] + v[n, c]` (a time embedding
    /// broadcast over an NHWC image, as `x + v[:, :, None, None]` in NCHW).
    public func addingPerSample(_ vectors: Tensor) -> Tensor {
        let batch = shape[0], channels = shape[rank - 1]
        precondition(vectors.shape == [batch, channels], "per-sample vectors \(vectors.shape) for \(shape)")
        let perSample = count / batch
        let result = Tensor(uninitializedShape: shape)
        let src = storage.pointer, v = vectors.storage.pointer, dst = result.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(count / channels, minimumPerThread: max(1, (1 << 14) / channels)) { rows in
            for row in rows {
                let bias = v + (row * channels / perSample) * channels
                kernels.add(src + row * channels, bias, scaledBy: 1, count: channels, into: dst + row * channels)
            }
        }
        return result
    }
}
