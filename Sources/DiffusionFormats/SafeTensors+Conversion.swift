import DiffusionCore

extension SafeTensors {
    /// Converts little-endian elements of `dtype` to float32. `source` holds exactly
    /// `destination.count` elements and may sit at any alignment (data_offsets need not be
    /// multiples of the element size), hence the unaligned loads.
    static func convert(_ source: UnsafeRawBufferPointer, from dtype: DType, into destination: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .f32: copy(source, into: destination)
        case .f16: widenF16(source, into: destination)
        case .bf16: map(source, into: destination) { (bits: UInt16) in Float(bitPattern: UInt32(bits) << 16) }
        case .f64: map(source, into: destination) { (value: Double) in Float(value) }
        case .i64: map(source, into: destination) { (value: Int64) in Float(value) }
        case .u64: map(source, into: destination) { (value: UInt64) in Float(value) }
        case .i32: map(source, into: destination) { (value: Int32) in Float(value) }
        case .u32: map(source, into: destination) { (value: UInt32) in Float(value) }
        case .i16: map(source, into: destination) { (value: Int16) in Float(value) }
        case .u16: map(source, into: destination) { (value: UInt16) in Float(value) }
        case .i8: map(source, into: destination) { (value: Int8) in Float(value) }
        case .u8: map(source, into: destination) { (value: UInt8) in Float(value) }
        case .bool: map(source, into: destination) { (value: UInt8) in value == 0 ? 0 : 1 }
        }
    }

    /// F16 to F32: the model-loading hot path, in the instruction set's kernel (F16C's
    /// `vcvtph2ps` on AVX2 and AVX-512).
    static func widenF16(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        Kernels.current.widen(input, into: output, count: destination.count)
    }

    private static func copy(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        UnsafeMutableRawPointer(output).copyMemory(from: input, byteCount: source.count)
    }

    @inline(__always)
    private static func map<Element>(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>, _ transform: (Element) -> Float
    ) {
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        let stride = MemoryLayout<Element>.stride
        for index in 0..<destination.count {
            output[index] = transform(input.loadUnaligned(fromByteOffset: index * stride, as: Element.self))
        }
    }
}
