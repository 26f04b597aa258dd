extension Tensor {
    /// diffusers' GEGLU gate over the last axis: the first half times the exact (erf) GELU of the
    /// second half (`hidden, gate = x.chunk(2, -1); hidden * gelu(gate)`), in one pass.
    public func geglu() -> Tensor {
        let width = shape[rank - 1]
        precondition(width % 2 == 0, "GEGLU needs an even last axis, got \(shape)")
        let half = width / 2
        let result = Tensor(uninitializedShape: Array(shape.dropLast()) + [half])
        let src = storage.pointer, dst = result.storage.pointer
        let kernels = Kernels.current
        Parallel.forEachRange(count / width, minimumPerThread: max(1, (1 << 14) / width)) { rows in
            for r in rows {
                let s = src + r * width, d = dst + r * half
                kernels.apply(.geluErf, s + half, d, count: half)
                kernels.multiply(d, s, count: half, into: d)
            }
        }
        return result
    }
}
