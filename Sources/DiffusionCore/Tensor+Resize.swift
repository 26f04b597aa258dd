/// Resizing and padding of NHWC tensors, as torch's `F.interpolate` (nearest, bilinear) and `F.pad`.
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

    /// Bilinear resize of an NHWC tensor to `height` x `width`, as torch's
    /// `F.interpolate(x, size=(height, width), mode="bilinear", align_corners=alignCorners)`
    /// (no antialiasing), in torch's float32 arithmetic.
    ///
    /// With `alignCorners` the corner pixels' centres map onto each other: source position
    /// `i * (in - 1) / (out - 1)`. Without, pixel areas do: `(i + 0.5) * in / out - 0.5`,
    /// clamped at 0. Each output blends the two nearest source pixels on each axis.
    public func resizedBilinear(height: Int, width: Int, alignCorners: Bool) -> Tensor {
        precondition(rank == 4 && height > 0 && width > 0, "bilinear resize of \(shape) to \(height)x\(width)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let rows = BilinearTaps(inSize: h, outSize: height, alignCorners: alignCorners)
        let columns = BilinearTaps(inSize: w, outSize: width, alignCorners: alignCorners)
        let result = Tensor(uninitializedShape: [n, height, width, c])
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * height, minimumPerThread: 8) { row in
            let (b, y) = (row / height, row % height)
            let top = src + (b * h + rows.first[y]) * w * c, bottom = src + (b * h + rows.second[y]) * w * c
            let wy0 = rows.firstWeight[y], wy1 = rows.secondWeight[y]
            for x in 0..<width {
                let x0 = columns.first[x] * c, x1 = columns.second[x] * c
                let wx0 = columns.firstWeight[x], wx1 = columns.secondWeight[x]
                let out = dst + (row * width + x) * c
                for k in 0..<c {
                    // torch's order: blend along the row first, then between the rows.
                    out[k] = wy0 * (wx0 * top[x0 + k] + wx1 * top[x1 + k])
                        + wy1 * (wx0 * bottom[x0 + k] + wx1 * bottom[x1 + k])
                }
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

/// The two source pixels and their weights for each output pixel of one axis of a bilinear
/// resize, as torch's `upsample_bilinear2d` computes them in float32.
private struct BilinearTaps {
    var first: [Int] = [], second: [Int] = []
    var firstWeight: [Float] = [], secondWeight: [Float] = []

    init(inSize: Int, outSize: Int, alignCorners: Bool) {
        let scale: Float = alignCorners
            ? (outSize > 1 ? Float(inSize - 1) / Float(outSize - 1) : 0)
            : Float(inSize) / Float(outSize)
        for i in 0..<outSize {
            let source = alignCorners ? scale * Float(i) : max(scale * (Float(i) + 0.5) - 0.5, 0)
            let index = min(Int(source), inSize - 1)
            let lambda = min(source - Float(index), 1)
            first.append(index)
            second.append(index < inSize - 1 ? index + 1 : index)
            firstWeight.append(1 - lambda)
            secondWeight.append(lambda)
        }
    }
}
