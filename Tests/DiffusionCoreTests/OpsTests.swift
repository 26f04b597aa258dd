import DiffusionCore
import Foundation
import DiffusionTestSupport
import Testing

// Tolerances: float32 accumulation over k terms drifts by about k * 2^-24 relative in the
// worst case; for the k <= 3000 of these cases that is under 2e-4, and in practice (random
// signs) near sqrt(k) * 2^-24. Matrix products use 1e-5, as OpenBLAS and PyTorch's MKL sum
// in different orders; convolution and attention 1e-4 (longer sums, exp in softmax).

@Suite struct MatMulTests {
    @Test func foldedBatchTimesMatrix() throws {
        let a = try Golden.tensor("matmul.folded.a"), b = try Golden.tensor("matmul.folded.b")
        expectClose(a.matmul(b), try Golden.tensor("matmul.folded.out"), tolerance: 1e-5, "folded")
    }

    @Test func batchByBatch() throws {
        let a = try Golden.tensor("matmul.batched.a"), b = try Golden.tensor("matmul.batched.b")
        expectClose(a.matmul(b), try Golden.tensor("matmul.batched.out"), tolerance: 1e-5, "batched")
    }

    @Test func transposedRightOperand() throws {
        let a = try Golden.tensor("matmul.transposed.a"), b = try Golden.tensor("matmul.transposed.b")
        expectClose(a.matmul(b, transposeB: true), try Golden.tensor("matmul.transposed.out"), tolerance: 1e-5, "a b^T")
    }

    @Test(arguments: ["bias", "nobias"]) func linear(_ name: String) throws {
        let bias = name == "bias" ? try Golden.tensor("linear.bias.bias") : nil
        let layer = Linear(weight: try Golden.tensor("linear.\(name).weight"), bias: bias)
        expectClose(layer(try Golden.tensor("linear.\(name).x")), try Golden.tensor("linear.\(name).out"), tolerance: 1e-5, name)
    }

    /// Enough rows that the bias rows are written by several threads (`BLAS.product` splits them at
    /// 2^16 floats per thread): every row against the sum in double. Sums of 3 products of values
    /// in [-1, 1) plus a bias: 1e-6.
    @Test func linearWithBiasOverManyRows() {
        var generator = SplitMix(seed: 5)
        let (rows, inputs, outputs) = (20_000, 3, 16)
        let x = generator.tensor([rows, inputs]), weight = generator.tensor([outputs, inputs]), bias = generator.tensor([outputs])
        let y = Linear(weight: weight, bias: bias)(x)
        var worst = 0.0
        for r in 0..<rows {
            for o in 0..<outputs {
                let sum = (0..<inputs).reduce(Double(bias[flat: o])) {
                    $0 + Double(x[flat: r * inputs + $1]) * Double(weight[flat: o * inputs + $1])
                }
                worst = max(worst, abs(Double(y[flat: r * outputs + o]) - sum))
            }
        }
        #expect(worst <= 1e-6, "\(worst)")
    }

    @Test func handComputedProduct() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        #expect(a.matmul(b).scalars == [58, 64, 139, 154])
    }
}

@Suite struct ConvolutionTests {
    static let cases: [(name: String, stride: Int, padding: Int)] = [
        ("sd_small", 1, 1), ("one_pixel", 1, 1), ("odd", 1, 1), ("stride2_odd", 2, 1), ("stride2", 2, 1),
        ("pointwise", 1, 0), ("pointwise_stride2", 2, 0), ("wide", 1, 1), ("sd_channels", 1, 1), ("valid", 1, 0),
        ("nobias", 1, 1),
    ]

    /// Each golden once per instruction set this machine runs (the direct kernel and Winograd's
    /// transforms are C kernels).
    @Test(arguments: cases, ISA.supported) func matchesTorch(_ c: (name: String, stride: Int, padding: Int), isa: ISA) throws {
        let prefix = "conv.\(c.name)"
        let bias = Golden.file.names.contains("\(prefix).bias") ? try Golden.tensor("\(prefix).bias") : nil
        let conv = Conv2D(weight: try Golden.tensor("\(prefix).weight"), bias: bias, stride: c.stride, padding: c.padding)
        let x = try Golden.image("\(prefix).x")
        expectClose(try isa.run { conv(x) }, try Golden.image("\(prefix).out"), tolerance: 1e-4, "\(c.name), \(isa)")
    }

    /// Winograd F(2x2, 3x3) and F(4x4, 3x3) forced on every 3x3 stride-1 padding-1 golden (odd
    /// sizes, one pixel, channel counts that are not multiples of 8) and on wide layers against the
    /// direct kernel. Their transforms add a few roundings per output, F(4x4)'s on terms up to 5
    /// (B) and 8 (A) times larger, which cancel: measured, at most 6e-7 for F(2x2) and 7e-6 for
    /// F(4x4) (sd_channels), both well inside the convolution's 1e-4. Once per instruction set.
    @Test(arguments: [Conv2D.Algorithm.winograd, .winograd4x4], ["sd_small", "one_pixel", "odd", "wide", "sd_channels", "nobias"])
    func winogradMatchesTorch(_ algorithm: Conv2D.Algorithm, _ name: String) throws {
        let prefix = "conv.\(name)"
        let bias = Golden.file.names.contains("\(prefix).bias") ? try Golden.tensor("\(prefix).bias") : nil
        let conv = Conv2D(weight: try Golden.tensor("\(prefix).weight"), bias: bias, stride: 1, padding: 1, algorithm: algorithm)
        let x = try Golden.image("\(prefix).x")
        for isa in ISA.supported {
            expectClose(try isa.run { conv(x) }, try Golden.image("\(prefix).out"), tolerance: 1e-4, "\(algorithm) \(name), \(isa)")
        }
    }

    /// Both sum 9 x 96 float32 products per output in different orders; measured, F(2x2) differs
    /// by 9e-7 and F(4x4) by 2.7e-6 (its larger constants, above), both within 1e-5 as matrix
    /// products are.
    @Test(arguments: [Conv2D.Algorithm.winograd, .winograd4x4])
    func winogradAgreesWithTheDirectKernelOnAWideLayer(_ algorithm: Conv2D.Algorithm) throws {
        // 2 x 9 x 7 pixels: partial tiles on both edges for both tile sizes; 96 -> 72 channels:
        // vector and scalar lanes.
        var generator = SplitMix(seed: 7)
        let x = generator.tensor([2, 9, 7, 96])
        let w = generator.tensor([72, 96, 3, 3]) { $0 / 30 }
        let b = generator.tensor([72])
        #expect(Conv2D(weight: w, bias: b, stride: 1, padding: 1).algorithm == .winograd4x4)
        // Forced: chosen, it would run as patches on these 40 tiles of 2x2 (below).
        let winograd = Conv2D(weight: w, bias: b, stride: 1, padding: 1, algorithm: algorithm)
        let direct = Conv2D(weight: w, bias: b, stride: 1, padding: 1, algorithm: .direct)
        for isa in ISA.supported {
            expectClose(try isa.run { winograd(x) }, try isa.run { direct(x) }, tolerance: 1e-5, "\(algorithm) vs direct, \(isa)")
        }
    }

    /// The patch-matrix product at a stride, a padding and a kernel Winograd cannot run, and as
    /// what a chosen Winograd layer runs on an input of fewer than `winogradMinimumTiles` tiles.
    /// Both sum the same 9 x 96 products per output as the direct kernel, in another order (1e-5
    /// as above).
    @Test func patchesAgreeWithTheDirectKernel() {
        var generator = SplitMix(seed: 11)
        let x = generator.tensor([2, 9, 7, 96])
        let w = generator.tensor([72, 96, 3, 3]) { $0 / 30 }
        let b = generator.tensor([72])
        for (stride, padding) in [(2, 1), (1, 0), (1, 1)] {
            let patches = Conv2D(weight: w, bias: b, stride: stride, padding: padding, algorithm: .patches)
            let direct = Conv2D(weight: w, bias: b, stride: stride, padding: padding, algorithm: .direct)
            expectClose(patches(x), direct(x), tolerance: 1e-5, "patches vs direct, stride \(stride), padding \(padding)")
        }
        let chosen = Conv2D(weight: w, bias: b, stride: 1, padding: 1)
        #expect(chosen.algorithm == .winograd4x4)
        #expect(chosen(x).scalars == Conv2D(weight: w, bias: b, stride: 1, padding: 1, algorithm: .patches)(x).scalars)
    }

    /// A chosen Winograd layer runs, per input, the largest tiles that pay: F(4x4) on at least
    /// `winograd4x4MinimumTiles` (96) tiles of 4x4, else F(2x2) on at least `winogradMinimumTiles`
    /// (64) tiles of 2x2, else patches. The three round differently, so equal outputs tell which ran.
    @Test func aChosenWinogradLayerRunsTheLargestTilesThatPay() {
        var generator = SplitMix(seed: 13)
        let w = generator.tensor([64, 64, 3, 3]) { $0 / 24 }
        let chosen = Conv2D(weight: w, bias: nil, stride: 1, padding: 1)
        // Sides 40 (100 tiles of 4x4), 28 (49 of 4x4, 196 of 2x2), 16 (16 and 64) and 14 (16 and 49).
        for (side, runs) in [(40, Conv2D.Algorithm.winograd4x4), (28, .winograd), (16, .winograd), (14, .patches)] {
            let x = generator.tensor([1, side, side, 64])
            let forced = Conv2D(weight: w, bias: nil, stride: 1, padding: 1, algorithm: runs)
            let same = chosen(x).scalars == forced(x).scalars  // as a Bool: a failure prints no arrays
            #expect(same, "\(side)x\(side) runs \(runs)")
        }
    }

    /// A deep layer on a small image: its 16 (or 36) x 776 x 760 transformed weights exceed the
    /// 32 MB Winograd holds at once, so they are transformed and multiplied in blocks of input
    /// channels. Both sum 9 x 776 float32 products per output in different orders, Winograd with a
    /// few more roundings in its transforms: 1e-5 relative, the bound of the wide-layer comparison
    /// above (measured, 2.4e-6 for F(2x2), 4.0e-6 for F(4x4)).
    @Test(arguments: [Conv2D.Algorithm.winograd, .winograd4x4])
    func winogradAgreesWithTheDirectKernelWhenItsWeightsGoInBlocks(_ algorithm: Conv2D.Algorithm) {
        var generator = SplitMix(seed: 9)
        let x = generator.tensor([1, 3, 5, 776])
        let w = generator.tensor([760, 776, 3, 3]) { $0 / 80 }
        let winograd = Conv2D(weight: w, bias: nil, stride: 1, padding: 1, algorithm: algorithm)
        let direct = Conv2D(weight: w, bias: nil, stride: 1, padding: 1, algorithm: .direct)
        expectClose(winograd(x), direct(x), tolerance: 1e-5, "\(algorithm) in blocks vs direct")
    }

    @Test func handComputedBoxFilter() {
        // A 3x3 all-ones kernel with zero padding sums each pixel's neighbourhood.
        let x = Tensor(shape: [1, 3, 3, 1], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let conv = Conv2D(weight: Tensor(shape: [1, 1, 3, 3], repeating: 1), bias: Tensor(shape: [1], values: [0.5]), padding: 1)
        #expect(conv(x).scalars == [12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5])
    }
}

@Suite struct NormalizationTests {
    /// Once per instruction set this machine runs (the fused SiLU is a C kernel).
    @Test(arguments: [("sd", 8, Float(1e-5)), ("odd", 4, 1e-6), ("one_pixel", 32, 1e-5)], ISA.supported)
    func groupNorm(_ c: (name: String, groups: Int, epsilon: Float), isa: ISA) throws {
        let p = "groupnorm.\(c.name)"
        let norm = GroupNorm(groups: c.groups, epsilon: c.epsilon, weight: try Golden.tensor("\(p).weight"), bias: try Golden.tensor("\(p).bias"))
        let x = try Golden.image("\(p).x")
        expectClose(try isa.run { norm(x) }, try Golden.image("\(p).out"), tolerance: 1e-5, "\(c.name), \(isa)")
        expectClose(try isa.run { norm(x, activation: .silu) }, try Golden.image("\(p).out_silu"), tolerance: 1e-5, "\(c.name) + silu, \(isa)")
    }

    @Test(arguments: ["clip", "odd"], ISA.supported) func layerNorm(_ name: String, isa: ISA) throws {
        let p = "layernorm.\(name)"
        let norm = LayerNorm(epsilon: 1e-5, weight: try Golden.tensor("\(p).weight"), bias: try Golden.tensor("\(p).bias"))
        let x = try Golden.tensor("\(p).x")
        expectClose(try isa.run { norm(x) }, try Golden.tensor("\(p).out"), tolerance: 1e-5, "\(name), \(isa)")
    }

    @Test(arguments: ISA.supported) func softmax(_ isa: ISA) throws {
        let x = try Golden.tensor("softmax.large.x")
        expectClose(try isa.run { x.softmax() }, try Golden.tensor("softmax.large.out"), tolerance: 1e-6, "softmax, \(isa)")
    }

    @Test func handComputedGroupNorm() {
        // One group of [1, 3]: mean 2, variance 1, so the normalized values are -1 and 1.
        let norm = GroupNorm(groups: 1, epsilon: 0, weight: Tensor(shape: [2], values: [2, 1]), bias: Tensor(shape: [2], values: [0, 10]))
        #expect(norm(Tensor(shape: [1, 1, 1, 2], values: [1, 3])).scalars == [-2, 11])
    }
}

@Suite struct ActivationTests {
    // The C kernels' vector exp and erf against torch's vectorized versions: a few ulp, so 1e-6 of
    // scale; once per instruction set this machine runs.
    @Test(arguments: [("silu", Activation.silu), ("gelu", .geluErf), ("gelu_tanh", .geluTanh), ("quick_gelu", .quickGELU)], ISA.supported)
    func matchesTorch(_ c: (name: String, activation: Activation), isa: ISA) throws {
        let x = try Golden.tensor("activation.x")
        expectClose(try isa.run { x.applying(c.activation) }, try Golden.tensor("activation.\(c.name)"), tolerance: 1e-6, "\(c.name), \(isa)")
    }
}

@Suite struct LayoutTests {
    @Test func upsampleNearest() throws {
        expectClose(try Golden.image("upsample.x").upsampledNearest2x(), try Golden.image("upsample.out"), tolerance: 0, "upsample")
    }

    @Test func concatenateChannels() throws {
        let joined = Tensor.concatenate([try Golden.image("concat.channels.a"), try Golden.image("concat.channels.b")], axis: 3)
        expectClose(joined, try Golden.image("concat.channels.out"), tolerance: 0, "concat")
    }

    /// Enough rows that several threads copy them (2^16 floats per thread at least): each element
    /// where its part put it, exactly.
    @Test func concatenateManyRows() {
        let rows = 20_000
        let a = Tensor(shape: [rows, 3], values: (0..<rows * 3).map { Float($0) })
        let b = Tensor(shape: [rows, 5], values: (0..<rows * 5).map { -Float($0) })
        let joined = Tensor.concatenate([a, b], axis: 1)
        #expect(joined.shape == [rows, 8])
        var expected = [Float]()
        for r in 0..<rows {
            for c in 0..<3 { expected.append(Float(r * 3 + c)) }
            for c in 0..<5 { expected.append(-Float(r * 5 + c)) }
        }
        #expect(joined.scalars == expected)
    }

    @Test func sliceAndChunkInvertConcatenate() {
        let t = Tensor(shape: [2, 3, 2], values: (0..<12).map(Float.init))
        let parts = t.chunked(3, axis: 1)
        #expect(parts[1].scalars == [2, 3, 8, 9])
        #expect(Tensor.concatenate(parts, axis: 1).scalars == t.scalars)
    }

    @Test func permuteRoundTrip() {
        let t = Tensor(shape: [1, 2, 2, 3], values: (0..<12).map(Float.init))
        #expect(t.nhwcToNCHW().scalars == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11])
        #expect(t.nhwcToNCHW().nchwToNHWC().scalars == t.scalars)
    }
}

@Suite struct AttentionTests {
    static let cases: [(name: String, heads: Int, causal: Bool)] = [("self", 2, false), ("causal", 5, true), ("cross", 2, false), ("odd", 3, false)]

    /// Each golden once per instruction set this machine runs.
    @Test(arguments: cases, ISA.supported) func matchesTorch(_ c: (name: String, heads: Int, causal: Bool), isa: ISA) throws {
        let p = "attention.\(c.name)"
        let (q, k, v) = (try Golden.tensor("\(p).q"), try Golden.tensor("\(p).k"), try Golden.tensor("\(p).v"))
        let expected = try Golden.tensor("\(p).out")
        let whole = try isa.run { Attention.scaledDotProduct(query: q, key: k, value: v, heads: c.heads, causal: c.causal) }
        expectClose(whole, expected, tolerance: 1e-4, "\(c.name), \(isa)")
    }

    /// Shapes the goldens do not reach, against attention evaluated directly in double precision:
    /// several query groups per head, key counts and head widths that leave partial 16-column
    /// tiles, a causal mask over many groups, keys in two 512-key blocks (whose online softmax
    /// rescales the first block's sums) with and without a causal mask that hides the second block
    /// from the first rows. Float32 sums over at most 700 keys: 1e-5. Once per instruction set.
    @Test(arguments: [
        (2, 100, 700, 2, 80, false), (1, 77, 77, 2, 128, true), (2, 30, 4, 1, 5, false), (1, 600, 600, 1, 24, true),
    ], ISA.supported)
    func matchesADirectEvaluation(_ c: (batch: Int, queries: Int, keys: Int, heads: Int, width: Int, causal: Bool), isa: ISA) throws {
        var generator = SplitMix(seed: 11)
        func random(_ shape: [Int]) -> Tensor { generator.tensor(shape) { 2 * $0 } }
        let (q, k, v) = (random([c.batch, c.queries, c.width]), random([c.batch, c.keys, c.width]), random([c.batch, c.keys, c.width]))
        let actual = try isa.run { Attention.scaledDotProduct(query: q, key: k, value: v, heads: c.heads, causal: c.causal) }
        let dim = c.width / c.heads
        var expected = [Float]()
        for b in 0..<c.batch {
            for i in 0..<c.queries {
                for h in 0..<c.heads {
                    let visible = c.causal ? min(c.keys, i + 1) : c.keys
                    let scores = (0..<visible).map { j in
                        (0..<dim).reduce(0.0) { sum, d in
                            sum + Double(q[flat: (b * c.queries + i) * c.width + h * dim + d]) * Double(k[flat: (b * c.keys + j) * c.width + h * dim + d])
                        } / Double(dim).squareRoot()
                    }
                    let top = scores.max()!
                    let weights = scores.map { Foundation.exp($0 - top) }
                    let total = weights.reduce(0, +)
                    for d in 0..<dim {
                        let sum = (0..<visible).reduce(0.0) { $0 + weights[$1] * Double(v[flat: (b * c.keys + $1) * c.width + h * dim + d]) }
                        expected.append(Float(sum / total))
                    }
                }
            }
        }
        expectClose(actual, Tensor(shape: q.shape, values: expected), tolerance: 1e-5, "\(c), \(isa)")
    }

    /// Keys scoring -inf (an infinite feature) weigh zero, as in a whole-row softmax, also when
    /// they fill the whole first 512-key block: the result is attention over the other keys alone,
    /// bit for bit (the skipped block leaves zeros, then the same 88 keys run the same way).
    @Test(arguments: ISA.supported) func keysScoringMinusInfinityWeighZero(_ isa: ISA) throws {
        var generator = SplitMix(seed: 13)
        // In [0.5, 2.5): positive queries, so the infinite feature scores -inf, not +inf.
        func random(_ shape: [Int]) -> Tensor { generator.tensor(shape) { 1.5 + $0 } }
        let (q, k, v) = (random([1, 3, 8]), random([1, 600, 8]), random([1, 600, 8]))
        var hidden = k.scalars
        for j in 0..<512 { hidden[j * 8] = -.infinity }
        let actual = try isa.run { Attention.scaledDotProduct(query: q, key: Tensor(shape: k.shape, values: hidden), value: v, heads: 1) }
        let rest = try isa.run {
            Attention.scaledDotProduct(query: q, key: k.slice(axis: 1, 512..<600), value: v.slice(axis: 1, 512..<600), heads: 1)
        }
        let finite = actual.scalars.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(actual.scalars == rest.scalars)
    }
}

@Suite struct ElementwiseTests {
    // Hand-computed: each result is one float operation on small integers and halves, exact in float32.
    let a = Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, 8, -0.5])
    let b = Tensor(shape: [2, 3], values: [4, 0.5, -1, 2, -8, 1.5])

    // Once per instruction set (the arithmetic runs in the C kernels).
    @Test(arguments: ISA.supported) func arithmetic(_ isa: ISA) throws {
        try isa.run {
            #expect((a + b).scalars == [5, -1.5, 2.5, 2, 0, 1])
            #expect((a - b).scalars == [-3, -2.5, 4.5, -2, 16, -2])
            #expect((a * b).scalars == [4, -1, -3.5, 0, -64, -0.75])
            #expect((a * 2).scalars == [2, -4, 7, 0, 16, -1])
            #expect((a / 2).scalars == [0.5, -1, 1.75, 0, 4, -0.25])
        }
    }

    @Test(arguments: ISA.supported) func scaledInPlaceAddLeavesSharedStorageAlone(_ isa: ISA) throws {
        var c = a
        try isa.run { c.add(b, scale: -0.5) }
        #expect(c.scalars == [-1, -2.25, 4, -1, 12, -1.25])
        #expect(a.scalars == [1, -2, 3.5, 0, 8, -0.5])
    }

    @Test(arguments: ISA.supported) func rowAndPerSampleVectorsBroadcast(_ isa: ISA) throws {
        let row = Tensor(shape: [3], values: [10, 20, 30])
        #expect(try isa.run { a.addingRow(row) }.scalars == [11, 18, 33.5, 10, 28, 29.5])
        // Two samples of one pixel each: sample n adds vectors[n].
        let vectors = Tensor(shape: [2, 3], values: [1, 2, 3, -1, -2, -3])
        #expect(try isa.run { a.reshaped([2, 1, 1, 3]).addingPerSample(vectors) }.scalars == [2, 0, 6.5, -1, 6, -3.5])
    }

    @Test(arguments: ISA.supported) func largeTensorsSplitAcrossThreadsGiveTheSameResult(_ isa: ISA) throws {
        // 100_003 elements: several parallel ranges and an uneven last one.
        let x = Tensor(shape: [100_003], values: (0..<100_003).map { Float($0 % 97) - 48 })
        let y = try isa.run { (x * x) - x }
        #expect(y.scalars == x.scalars.map { $0 * $0 - $0 })
    }
}

/// A small deterministic generator for test data (SplitMix64), uniform in [-1, 1).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextFloat() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }

    /// A tensor of `shape` filled with `transform` of successive draws (by default the draws).
    mutating func tensor(_ shape: [Int], _ transform: (Float) -> Float = { $0 }) -> Tensor {
        Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in transform(nextFloat()) })
    }
}

@Suite struct SoftmaxTests {
    /// The vectorized exp inside softmax against the C library's, over rows long enough for the
    /// vector path and its tail, with scores from -90 (underflow) to 60: a few ulp at most, and
    /// at most the smallest normal float (1.2e-38) where e^x is subnormal and the vector path
    /// returns zero.
    @Test(arguments: [1, 7, 8, 77, 4096], ISA.supported) func rowsMatchTheScalarDefinition(_ count: Int, isa: ISA) throws {
        var generator = SplitMix(seed: UInt64(count))
        let scores = (0..<count).map { _ in 75 * generator.nextFloat() - 15 }
        let softmax = try isa.run { Tensor(shape: [1, count], values: scores).softmax().scalars }
        let maximum = scores.max()!
        let exps = scores.map { Double(expf($0 - maximum)) }
        let total = exps.reduce(0, +)
        for (value, e) in zip(softmax, exps) {
            let expected = e / total
            let error = abs(Double(value) - expected)
            #expect(error <= 4e-7 * expected + 1.2e-38)
        }
    }
}
