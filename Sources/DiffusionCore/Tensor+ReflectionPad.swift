extension Tensor {
    /// `torch.nn.ReflectionPad2d(padding)` of an NHWC tensor: `padding` rows and columns added
    /// on every side, mirroring the image about its edge pixels (which are not repeated), so
    /// `padding` must be smaller than both sides.
    public func reflectionPadded(_ padding: Int) -> Tensor {
        precondition(rank == 4 && padding >= 0 && padding < shape[1] && padding < shape[2],
                     "reflection padding \(padding) of \(shape)")
        let (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        let (ph, pw) = (height + 2 * padding, width + 2 * padding)
        let result = Tensor(uninitializedShape: [batch, ph, pw, channels])
        let (source, target) = (storage.pointer, result.storage.pointer)
        func mirrored(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i }
        Parallel.forEach(batch * ph, minimumPerThread: 16) { row in
            let (n, oy) = (row / ph, row % ph)
            let from = source + (n * height + mirrored(oy - padding, height)) * width * channels
            let to = target + row * pw * channels
            (to + padding * channels).update(from: from, count: width * channels)
            for ox in Array(0..<padding) + Array(padding + width..<pw) {
                (to + ox * channels).update(from: from + mirrored(ox - padding, width) * channels, count: channels)
            }
        }
        return result
    }
}
