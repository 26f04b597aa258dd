/// Resizing and padding of NHWC tensors, as torch's `F.interpolate(mode="nearest")` and `F.pad`.
extension Tensor {
    /// Nearest-neighbour resize of an NHWC tensor to `height` x `width`: output pixel i reads
    /// input pixel `min(floor(i * in / out), in - 1)`, with torch's float32 scale.
    public func resizedNearest(height: Int, width: Int) -> Tensor {
        precondition(rank == 4 && height > 0 && width > 0, "nearest resize of \(shape) to \(height)x\(width)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        func sources(_ outSize: Int, _ inSize: Int) -> [Int] {
            let scale = Float(inSize) / Float(outSize)
            return (0..<outSize).map { min(Int((Float($0) * scale).rounded(.down)), inSize - 1) }
        }
        let rows = sources(height, h), columns = sources(width, w)
        let result = Tensor(uninitializedShape: [n, height, width, c])
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * height, minimumPerThread: 8) { row in
            let (b, y) = (row / height, row % height)
            for x in 0..<width {
                (dst + (row * width + x) * c).initialize(from: src + ((b * h + rows[y]) * w + columns[x]) * c, count: c)
            }
        }
        return result
    }

    /// One zero row below and one zero column right of an NHWC tensor (`F.pad(x, (0, 1, 0, 1))`).
    public func paddedBottomRight() -> Tensor {
        precondition(rank == 4, "padding needs NHWC, got \(shape)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let result = Tensor(shape: [n, h + 1, w + 1, c])
        let src = storage.pointer, dst = result.storage.pointer
        for b in 0..<n {
            for y in 0..<h {
                (dst + ((b * (h + 1) + y) * (w + 1)) * c).update(from: src + ((b * h + y) * w) * c, count: w * c)
            }
        }
        return result
    }
}
