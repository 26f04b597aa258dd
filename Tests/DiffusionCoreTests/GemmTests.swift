import DiffusionCore
import Foundation
import Testing

@Suite struct GemmTests {
    /// Diffuse's linear product (`BLAS.product`, `.diffuse`) against float64 sums of the same
    /// float32 or float16 weights, on every path this machine runs. The shapes leave partial tiles
    /// everywhere: 29 and 53 rows (not multiples of the 3-, 6- or 12-row tiles, 53 more than one
    /// packed block and split over the threads), 45 and 4133 columns (partial 16- and 32-column
    /// panels; 4133 two column blocks), depth 37 and 1543 (three depth blocks of 514-515).
    ///
    /// Tolerance: a float32 sum of `depth` products, each rounded once by the FMA, strays from the
    /// exact sum by at most about depth x 2^-24 x sum |a w| (Higham's bound); summed in blocks and
    /// with random signs the error grows like sqrt(depth), so 4 sqrt(depth) x 2^-24 x sum |a w|
    /// (plus |bias| x 2^-24 for the bias added last) bounds it with room and still fails on any
    /// misplaced term (one term is about sum |a w| / depth).
    @Test(arguments: ISA.supported, [(29, 37, 45), (53, 1543, 4133)])
    func productMatchesDoubleSums(_ isa: ISA, shape: (rows: Int, inputs: Int, outputs: Int)) throws {
        let (rows, inputs, outputs) = shape
        var generator = SplitMix(seed: UInt64(rows))
        let x = generator.tensor([rows, inputs]), bias = generator.tensor([outputs])
        let w = generator.tensor([outputs, inputs]).scalars.map { Float(Float16($0)) }
        let halves = w.map { Float16($0) }
        let weights = [WeightArray(Tensor(shape: [outputs, inputs], values: w)),
                       halves.withUnsafeBytes { WeightArray(float16Bytes: $0, shape: [outputs, inputs]) }]
        let a = x.scalars, b = bias.scalars
        var exact = [Double](repeating: 0, count: rows * outputs), magnitude = exact
        for r in 0..<rows {
            for j in 0..<outputs {
                var sum = 0.0, size = 0.0
                for k in 0..<inputs {
                    let term = Double(a[r * inputs + k]) * Double(w[j * inputs + k])
                    sum += term
                    size += abs(term)
                }
                (exact[r * outputs + j], magnitude[r * outputs + j]) = (sum, size)
            }
        }
        let unit = pow(2.0, -24.0), spread = 4 * Double(inputs).squareRoot()
        for weight in weights {
            for withBias in [false, true] {
                let y = Tensor(shape: [rows, outputs])
                try isa.run {
                    BLAS.product(x.storage.pointer, rows: rows, weight: weight, bias: withBias ? bias : nil,
                                 into: y.storage.pointer, kernel: .diffuse)
                }
                var misses = 0
                for (i, value) in y.scalars.enumerated() {
                    let offset = withBias ? Double(b[i % outputs]) : 0
                    let tolerance = spread * unit * magnitude[i] + unit * abs(offset)
                    if abs(Double(value) - (exact[i] + offset)) > tolerance { misses += 1 }
                }
                #expect(misses == 0, "\(isa) \(shape) float16 \(weight.isFloat16) bias \(withBias): \(misses) outputs off")
            }
        }
    }
}
