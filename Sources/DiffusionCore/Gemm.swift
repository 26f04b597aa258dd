/// Diffuse's own product for the linear layers and 1x1 convolutions, `out = a x W^T (+ bias)` with
/// PyTorch's `[out, in]` weight in float32 or float16 (Docs/PERFORMANCE.md, "Which sgemm runs"). It
/// reads the weight as it rests, so float16 weights need no widened copy, and it adds the bias as
/// it stores, so the output is written once.
///
/// Blocking as in BLIS: the weight is packed one depth x column block at a time, both threads
/// packing half of it, then the threads split the block's rows; each packs its rows
/// `gemmRowBlock` at a time and runs the register tile over them (Sources/CKernels/gemm.h).
enum Gemm {
    /// The deepest block: depth is split into equal blocks no deeper. Each tile loads and stores
    /// its outputs once per block, so deeper is better until the packed rows leave the L2 cache;
    /// 768 measured best of 128-768 on Zen 4 (Docs/PERFORMANCE.md, lab notes).
    static let depthBlock = 1280
    /// The widest block of weight columns (split into equal blocks no wider): 768 x 4096 floats
    /// packed are 12 MB, within a shared L3 cache.
    static let columnBlock = 4096

    static func product(
        _ a: UnsafePointer<Float>, rows: Int, weight: WeightArray, bias: UnsafePointer<Float>?,
        into out: UnsafeMutablePointer<Float>
    ) {
        let kernels = Kernels.current
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        let (tileRows, tileColumns) = (kernels.gemmRows, kernels.gemmColumns)
        let depthBlocks = (inputs + depthBlock - 1) / depthBlock
        let panels = (outputs + tileColumns - 1) / tileColumns
        let columnBlocks = (panels * tileColumns + columnBlock - 1) / columnBlock
        let packedCount = ((panels + columnBlocks - 1) / columnBlocks) * tileColumns * ((inputs + depthBlocks - 1) / depthBlocks)
        withRawWeight(weight) { w, half in
            ScratchPool.withFloats(packedCount) { packed in
                for columnBlock in 0..<columnBlocks {
                    let firstPanel = panels * columnBlock / columnBlocks, endPanel = panels * (columnBlock + 1) / columnBlocks
                    let n0 = firstPanel * tileColumns, columns = min(outputs, endPanel * tileColumns) - n0
                    for depthBlock in 0..<depthBlocks {
                        let k0 = inputs * depthBlock / depthBlocks, depth = inputs * (depthBlock + 1) / depthBlocks - k0
                        let panelCount = depth * tileColumns
                        Parallel.forEachRange(endPanel - firstPanel, minimumPerThread: max(1, (1 << 16) / panelCount)) { range in
                            let first = n0 + range.lowerBound * tileColumns
                            kernels.gemmPackB(w, half: half, ldw: inputs, k0: k0, depth: depth, n0: first,
                                              columns: min(n0 + columns, n0 + range.upperBound * tileColumns) - first,
                                              into: packed + range.lowerBound * panelCount)
                        }
                        let groups = (rows + tileRows - 1) / tileRows
                        let groupWork = tileRows * depth * columns
                        Parallel.forEachRange(groups, minimumPerThread: max(1, BLAS.smallProduct / 2 / groupWork)) { range in
                            let r0 = range.lowerBound * tileRows, r1 = min(rows, range.upperBound * tileRows)
                            ScratchPool.withFloats(kernels.gemmRowBlock * depth) { scratch in
                                kernels.gemmBlock(a + r0 * inputs + k0, lda: inputs, rows: r1 - r0, packed, depth: depth,
                                                  columns: columns, bias: bias.map { $0 + n0 }, accumulating: depthBlock > 0,
                                                  into: out + r0 * outputs + n0, ldc: outputs, scratch: scratch)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The weight's memory as it rests, and whether it is float16.
    private static func withRawWeight(_ weight: WeightArray, _ body: (UnsafeRawPointer, Bool) -> Void) {
        switch weight.storage {
        case .float32(let tensor): body(UnsafeRawPointer(tensor.storage.pointer), false)
        case .float16(let half): body(UnsafeRawPointer(half.pointer), true)
        }
    }
}
