import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// Reading files written by Python's safetensors, and round trips through the writer.
@Suite struct SafeTensorsReadTests {
    let python: SafeTensorsFile

    init() throws {
        python = try SafeTensorsFile(contentsOf: goldens.appendingPathComponent("python.safetensors"))
    }

    @Test func listsNamesSortedWithInfoAndMetadata() throws {
        #expect(python.names == python.names.sorted())
        #expect(python.names.count == 14)
        #expect(python.metadata == ["format": "pt", "note": "fixture"])
        let info = try #require(python.info("position_ids"))
        #expect(info.dtype == .i64)
        #expect(info.shape == [1, 77])
        #expect(info.count == 77)
        #expect(python.info("missing") == nil)
    }

    /// Layer weights keep F16 as float16 (half the memory) and read every other dtype as float32.
    @Test func weightsKeepF16AsF16() throws {
        let half = try python.weights(named: "f16_random"), float = try python.weights(named: "f32")
        #expect(half.isFloat16 && !float.isFloat16)
        #expect(half.widened().scalars.map(\.bitPattern) == (try python.tensor(named: "f16_random")).scalars.map(\.bitPattern))
        #expect(float.widened().scalars.map(\.bitPattern) == (try python.tensor(named: "f32")).scalars.map(\.bitPattern))
    }

    @Test func readsF32Exactly() throws {
        let tensor = try python.tensor(named: "f32")
        #expect(tensor.shape == [2, 3])
        // 1e-40 is a float32 subnormal: the bits must pass through untouched.
        let expected: [Float] = [0, -1.5, 3.25, 1e-40, 3.4028235e38, -0.0]
        #expect(tensor.scalars.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func widensF16Exactly() throws {
        let values = try python.tensor(named: "f16").scalars
        // torch rounded 0.1 and 1/3 to the nearest F16: 0x2E66 and 0x3555.
        let expected: [Float] = [0, -0.0, 1, -2.5, 65504, 0x1p-14, 0x1p-24, 0.0999755859375, 0.333251953125,
                                 .infinity, -.infinity]
        #expect(values.prefix(11).map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(values[11].isNaN)
    }

    @Test func widensRandomF16LikeTorch() throws {
        // 1003 elements: the vector loop and its scalar tail; torch's `.float()` is the reference.
        let widened = try python.tensor(named: "f16_random")
        let reference = try python.tensor(named: "f16_random.float")
        #expect(widened.shape == [1003])
        #expect(widened.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern))
    }

    @Test func widensBF16Exactly() throws {
        let tensor = try python.tensor(named: "bf16")
        #expect(tensor.shape == [2, 2])
        // 2^-133 is a BF16 subnormal; 3.3895314e38 is the largest finite BF16.
        #expect(tensor.scalars == [1, -3.140625, 0x1p-133, 3.3895314e38])
    }

    @Test func convertsF64AndIntegers() throws {
        #expect(try python.tensor(named: "f64").scalars == [0.1, -2])  // 0.1 narrowed to the nearest float
        #expect(try python.tensor(named: "position_ids").scalars == (0..<77).map(Float.init))
        #expect(try python.tensor(named: "i32").scalars == [-2147483648, 7])
        #expect(try python.tensor(named: "i16").scalars == [-32768, 32767])
        #expect(try python.tensor(named: "i8").scalars == [-128, 127])
        #expect(try python.tensor(named: "u8").scalars == [0, 255])
        #expect(try python.tensor(named: "bool").scalars == [1, 0, 1])
    }

    @Test func readsScalarAndEmptyTensors() throws {
        let scalar = try python.tensor(named: "scalar")
        #expect(scalar.shape == [])
        #expect(scalar.scalars == [42])
        let empty = try python.tensor(named: "empty")
        #expect(empty.shape == [0, 3])
        #expect(empty.count == 0)
    }

    @Test func widensEveryF16BitPattern() throws {
        // All 65536 patterns at an odd byte offset (the unaligned path), against an
        // independent bit-level decoding of IEEE half precision.
        let folder = try TemporaryFolder()
        let patterns = (0...UInt16.max).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let header = #"{"pad":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"all":{"dtype":"F16","shape":[65536],"data_offsets":[1,131073]}}"#
        let url = try folder.write(safetensorsBytes(header: header, data: [7] + patterns), named: "all-f16.safetensors")
        let values = try SafeTensorsFile(contentsOf: url).tensor(named: "all").scalars
        for bits in 0...UInt16.max {
            let value = values[Int(bits)], expected = referenceHalf(bits)
            #expect(value.bitPattern == expected.bitPattern || (value.isNaN && expected.isNaN), "F16 0x\(String(bits, radix: 16))")
        }
    }

    @Test func roundTripsF32WithMetadata() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("round.safetensors")
        let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, 1e-40, .infinity, -0])
        let b = Tensor(shape: [], values: [7])
        let metadata = ["format": "pt", "quote\"and\\slash\n": "tab\there"]
        try SafeTensors.write([("z.weight", a), ("a.bias", b)], metadata: metadata, to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.names == ["a.bias", "z.weight"])
        #expect(file.metadata == metadata)
        #expect(try file.tensor(named: "z.weight").scalars.map(\.bitPattern) == a.scalars.map(\.bitPattern))
        #expect(try file.tensor(named: "a.bias").shape == [])
        #expect(folder.contents == ["round.safetensors"])  // the temporary file was renamed away
    }

    @Test func writesTheHeaderAsPythonDoes() throws {
        // Byte for byte what safetensors.torch.save_file({"b": torch.zeros(2), "a": torch.ones(1, 1)},
        // metadata={"format": "pt"}) writes: sorted names, compact JSON, space padding to 8.
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("layout.safetensors")
        try SafeTensors.write([("b", Tensor(shape: [2])), ("a", Tensor(shape: [1, 1], repeating: 1))],
                              metadata: ["format": "pt"], to: url)
        let json = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        let expected = safetensorsBytes(header: padded, data: f32Bytes([1, 0, 0]))
        #expect(try [UInt8](Data(contentsOf: url)) == expected)
    }

    @Test func roundTripsF16WithTorchRounding() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("half.safetensors")
        // 0.1 -> 0x2E66 (0.0999755859375); 65520 is halfway to infinity and rounds up to it;
        // 1e-8 is below half the smallest subnormal and flushes to zero.
        let tensor = Tensor(shape: [2, 3], values: [0.1, -1, 65504, 65520, 1e-8, 0x1p-24])
        try SafeTensors.write([("x", tensor)], dtype: .f16, to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.info("x")?.dtype == .f16)
        #expect(try file.tensor(named: "x").scalars == [0.0999755859375, -1, 65504, .infinity, 0, 0x1p-24])
    }

    @Test func writingDuplicateNamesFails() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("dup.safetensors")
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.write([("w", Tensor(shape: [1])), ("w", Tensor(shape: [2]))], to: url)
        }
        #expect(error?.kind == .writeFailed)
        #expect(error?.description.contains("\"w\"") == true)
        #expect(folder.contents.isEmpty)
    }
}

/// IEEE 754 binary16 decoded from its fields, as the reference for the vectorized widening.
private func referenceHalf(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 == 0 ? 1 : -1
    let exponent = Int(bits >> 10 & 0x1F), fraction = Float(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
