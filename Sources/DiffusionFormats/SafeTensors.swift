/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length, a JSON header mapping tensor names to dtype, shape and
/// byte range, then the raw little-endian tensor data.
///
/// `SafeTensorsFile` reads it; `SafeTensors.write` writes it.
public enum SafeTensors {
    /// The element types of safetensors that convert to float32.
    public enum DType: String, Sendable, CaseIterable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", i32 = "I32", u32 = "U32"
        case i64 = "I64", u64 = "U64", f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8: 1
            case .i16, .u16, .f16, .bf16: 2
            case .i32, .u32, .f32: 4
            case .i64, .u64, .f64: 8
            }
        }
    }

    /// The float dtypes the writer stores.
    public enum FloatDType: String, Sendable {
        case f32 = "F32", f16 = "F16"

        var dtype: DType { self == .f32 ? .f32 : .f16 }
    }

    /// What the header says about one tensor.
    public struct TensorInfo: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte offsets relative to the start of the data section, as in `data_offsets`.
        public let dataOffsets: Range<Int>

        /// The number of elements (1 for a scalar, whose shape is empty).
        public var count: Int { dataOffsets.count / dtype.size }
    }

    /// The largest header accepted, as the reference implementation (100 MB): real headers
    /// are well under a megabyte, and a larger length is a corrupt or hostile file.
    public static let maximumHeaderSize = 100_000_000
}

#if !_endian(little)
#error("safetensors data is little-endian; the reader and writer copy it as is")
#endif
