import DiffusionCore
import Testing

/// Float16 weights are kept as float16 and widened when a layer runs. Widening is exact, so a
/// layer built from float16 weights must compute bit for bit what it computes from the same
/// values given as float32 (whose kernels the torch goldens check): these tests compare the two.
@Suite struct WeightArrayTests {
    /// Random values rounded to float16, as float16 weights and as float32 weights.
    static func weights(_ shape: [Int], seed: UInt64, scale: Float) -> (half: WeightArray, float: Tensor) {
        var generator = SplitMix(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ in Float16(generator.nextFloat() * scale) }
        let half = values.withUnsafeBytes { WeightArray(float16Bytes: $0, shape: shape) }
        return (half, Tensor(shape: shape, values: values.map(Float.init)))
    }

    static func input(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix(seed: seed)
        return generator.tensor(shape)
    }

    /// On every instruction set this machine runs; 20 values, so the vector loop and its tail.
    @Test(arguments: ISA.supported) func widensExactly(_ isa: ISA) throws {
        // Normal, negative, largest finite, smallest subnormal, zero, negative zero, infinity.
        let values: [Float16] = [1.5, -0.333, 65504, Float16(bitPattern: 1), 0, -0.0, -.infinity] + (0..<13).map { Float16($0) / 3 }
        let weights = values.withUnsafeBytes { WeightArray(float16Bytes: $0, shape: [4, 5]) }
        #expect(weights.isFloat16 && weights.byteCount == 40 && weights.shape == [4, 5])
        let widened = try isa.run { weights.widened() }
        #expect(widened.scalars.map(\.bitPattern) == values.map { Float($0).bitPattern }, "\(isa)")
        #expect(weights.reshaped([5, 4]).widened().scalars == weights.widened().scalars)
        #expect(WeightArray(Tensor(shape: [2], values: [1, 2])).byteCount == 8)
    }

    @Test func linearComputesWhatItsWideningComputes() {
        let (half, float) = Self.weights([96, 80], seed: 1, scale: 0.1)
        let bias = Self.input([96], seed: 2), x = Self.input([3, 5, 80], seed: 3)
        let y = Linear(weight: half, bias: bias)(x)
        #expect(y.scalars == Linear(weight: float, bias: bias)(x).scalars)
    }

    /// Each algorithm with channel counts that leave scalar tails (70 = 8 x 8 + 6, 21 out).
    @Test(arguments: [
        (Conv2D.Algorithm.pointwise, 1, 1, 0), (.direct, 3, 2, 1), (.direct, 3, 1, 1), (.winograd, 3, 1, 1),
        (.winograd4x4, 3, 1, 1), (.patches, 3, 2, 1),
    ])
    func convolutionComputesWhatItsWideningComputes(_ c: (algorithm: Conv2D.Algorithm, kernel: Int, stride: Int, padding: Int)) {
        let (half, float) = Self.weights([21, 70, c.kernel, c.kernel], seed: 4, scale: 0.05)
        let bias = Self.input([21], seed: 5), x = Self.input([2, 9, 7, 70], seed: 6)
        let fromHalf = Conv2D(weight: half, bias: bias, stride: c.stride, padding: c.padding, algorithm: c.algorithm)
        let fromFloat = Conv2D(weight: float, bias: bias, stride: c.stride, padding: c.padding, algorithm: c.algorithm)
        #expect(fromHalf(x).scalars == fromFloat(x).scalars, "\(c.algorithm)")
    }
}
