import DiffusionCore
import Testing

/// AdaptiveAvgPool2D against torch's cell rule, by hand: cell i of an axis averages inputs
/// floor(i * in / out) ..< ceil((i + 1) * in / out).
struct AdaptiveAvgPool2DTests {
    /// 5 columns to 3 overlapping cells ([0, 2), [1, 4), [3, 5)) and 2 rows to 1, two channels.
    @Test func overlappingCellsAverage() {
        let values: [Float] = (0..<10).flatMap { [Float($0), -Float($0)] }  // pixel y * 5 + x holds (y * 5 + x, its negative)
        let pooled = AdaptiveAvgPool2D(outputHeight: 1, outputWidth: 3)(Tensor(shape: [1, 2, 5, 2], values: values))
        // Cell 0: columns 0, 1 of both rows: (0 + 1 + 5 + 6) / 4 = 3; cell 1: columns 1-3: (1+2+3+6+7+8) / 6 = 4.5;
        // cell 2: columns 3, 4: (3 + 4 + 8 + 9) / 4 = 6.
        #expect(pooled.shape == [1, 1, 3, 2])
        #expect(pooled.scalars == [3, -3, 4.5, -4.5, 6, -6])
    }

    /// More cells than inputs repeat them: 2 to 6 gives each input three times, as PSPNet's
    /// 6x6 pool of a small feature map does.
    @Test func moreCellsThanInputsRepeat() {
        let pooled = AdaptiveAvgPool2D(outputSize: 6)(Tensor(shape: [1, 2, 2, 1], values: [1, 2, 3, 4]))
        #expect(pooled.shape == [1, 6, 6, 1])
        let expectedRow: (Float, Float) -> [Float] = { a, b in [a, a, a, b, b, b] }
        #expect(pooled.scalars == Array(repeating: expectedRow(1, 2), count: 3).flatMap { $0 }
            + Array(repeating: expectedRow(3, 4), count: 3).flatMap { $0 })
    }

    /// One cell is the global mean.
    @Test func oneCellIsTheMean() {
        let pooled = AdaptiveAvgPool2D(outputSize: 1)(Tensor(shape: [1, 3, 1, 1], values: [1, 2, 6]))
        #expect(pooled.scalars == [3])
    }
}
