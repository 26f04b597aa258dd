/// Layout operations: concatenation, slicing, upsampling and axis permutations.
extension Tensor {
    /// Joins tensors along `axis`; every other axis must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "nothing to concatenate")
        let rank = parts[0].rank
        let axis = axis < 0 ? axis + rank : axis
        for p in parts {
            precondition(p.rank == rank && zip(p.shape, parts[0].shape).enumerated().allSatisfy { $0.offset == axis || $0.element.0 == $0.element.1 },
                         "cannot concatenate \(parts.map(\.shape)) along axis \(axis)")
        }
        var shape = parts[0].shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let result = Tensor(uninitializedShape: shape)
        let rowWidth = shape[axis] * inner
        // Across the threads: the UNet's skip connections join tens of megabytes at a time.
        Parallel.forEachRange(outer, minimumPerThread: max(1, (1 << 16) / rowWidth)) { range in
            var offset = 0
            for p in parts {
                let width = p.shape[axis] * inner
                for o in range {
                    (result.storage.pointer + o * rowWidth + offset).initialize(from: p.storage.pointer + o * width, count: width)
                }
                offset += width
            }
        }
        return result
    }

    /// Elements `range` of `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) of axis \(axis) of \(shape)")
        var newShape = shape
        newShape[axis] = range.count
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let result = Tensor(uninitializedShape: newShape)
        for o in 0..<outer {
            (result.storage.pointer + o * range.count * inner)
                .initialize(from: storage.pointer + (o * shape[axis] + range.lowerBound) * inner, count: range.count * inner)
        }
        return result
    }

    /// Splits `axis` into `parts` equal pieces (`torch.chunk`).
    public func chunked(_ parts: Int, axis: Int) -> [Tensor] {
        let axis = axis < 0 ? axis + rank : axis
        precondition(shape[axis] % parts == 0, "axis \(axis) of \(shape) does not split into \(parts)")
        let size = shape[axis] / parts
        return (0..<parts).map { slice(axis: axis, $0 * size..<($0 + 1) * size) }
    }

    /// Nearest-neighbour 2x upsampling of an NHWC tensor (`F.interpolate(scale_factor=2.0, mode="nearest")`).
    public func upsampledNearest2x() -> Tensor {
        precondition(rank == 4, "upsampling needs NHWC, got \(shape)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let result = Tensor(uninitializedShape: [n, 2 * h, 2 * w, c])
        let src = storage.pointer, dst = result.storage.pointer
        Parallel.forEach(n * h, minimumPerThread: 8) { row in
            for x in 0..<w {
                let s = src + (row * w + x) * c
                for dy in 0..<2 {
                    let d = dst + ((row * 2 + dy) * 2 * w + 2 * x) * c
                    d.initialize(from: s, count: c)
                    (d + c).initialize(from: s, count: c)
                }
            }
        }
        return result
    }

    /// Reorders the axes: result axis i is this tensor's axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "\(order) is not a permutation of \(rank) axes")
        let newShape = order.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let sourceStrides = order.map { strides[$0] }
        let result = Tensor(uninitializedShape: newShape)
        let src = storage.pointer, dst = result.storage.pointer
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<count {
            var offset = 0
            for a in 0..<rank { offset += index[a] * sourceStrides[a] }
            dst[i] = src[offset]
            var a = rank - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < newShape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return result
    }

    /// NCHW (PyTorch's image layout) to NHWC.
    public func nchwToNHWC() -> Tensor { permuted([0, 2, 3, 1]) }
    /// NHWC to NCHW.
    public func nhwcToNCHW() -> Tensor { permuted([0, 3, 1, 2]) }
}
