// Follows numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src, pairwise_sum).
/// numpy's float64 `sum`: pairwise, in blocks of 8 accumulators below 128 elements.
enum NumpySum {
    static func pairwise(_ values: [Double]) -> Double {
        pairwise(values[...])
    }

    private static func pairwise(_ values: ArraySlice<Double>) -> Double {
        let n = values.count, start = values.startIndex
        if n < 8 { return values.reduce(-0.0, +) }
        if n <= 128 {
            var r = (0..<8).map { values[start + $0] }
            var i = 8
            while i < n - n % 8 {
                for k in 0..<8 { r[k] += values[start + i + k] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { sum += values[start + i]; i += 1 }
            return sum
        }
        let half = (n / 2) - (n / 2) % 8
        return pairwise(values[start..<(start + half)]) + pairwise(values[(start + half)...])
    }
}
