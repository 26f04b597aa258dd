/// A storage a tensor views: its key in the checkpoint (zip entry `data/<key>`, or the legacy
/// form's key), its element type, and its element count.
struct TorchStorage {
    let key: String
    let dtype: SafeTensors.DType
    let count: Int
}

/// `torch._utils._rebuild_tensor_v2`'s arguments: a strided view of a storage.
struct TorchTensor {
    let storage: TorchStorage
    /// In elements.
    let offset: Int
    let shape: [Int]
    /// In elements.
    let strides: [Int]
}

extension TorchTensor {
    /// The number of storage elements the view reaches: one past its last element's index (its
    /// offset when it is empty), or nil when that or the element count overflows.
    var extent: Int? {
        var last = offset
        for (size, stride) in zip(shape, strides) {
            let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflow2) = last.addingReportingOverflow(step)
            guard !overflow, !overflow2 else { return nil }
            last = sum
        }
        // Element counts must not overflow either: the reader allocates shape.product elements.
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            count = product
        }
        return count == 0 ? offset : last + 1
    }

    /// True when the view is row-major and dense (dimensions of size 1 may have any stride).
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            guard stride == expected else { return false }
            expected *= size
        }
        return true
    }

    /// Copies the view's elements from `storage` (its whole data) into `destination` in row-major order.
    func gather(from storage: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
        let size = self.storage.dtype.size, count = shape.reduce(1, *)
        guard count > 0, let source = storage.baseAddress, let target = destination.baseAddress else { return }
        var index = [Int](repeating: 0, count: shape.count), position = offset
        for element in 0..<count {
            target.advanced(by: element * size).copyMemory(from: source.advanced(by: position * size), byteCount: size)
            // Advance the multi-index like an odometer, the last dimension fastest.
            var dimension = shape.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                position += strides[dimension]
                if index[dimension] < shape[dimension] { break }
                position -= strides[dimension] * shape[dimension]
                index[dimension] = 0
                dimension -= 1
            }
        }
    }
}
