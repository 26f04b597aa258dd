// Follows scipy.ndimage's gaussian_filter (_filters.py: _gaussian_kernel1d, correlate1d; ni_filters.c).
import Foundation

/// `scipy.ndimage.gaussian_filter(plane, sigma)` on a float64 plane with scipy's defaults: a
/// kernel of radius `int(4 * sigma + 0.5)`, mode `reflect` (the edge pixel repeated:
/// `d c b a | a b c d`), filtered along rows of the first axis, then the second.
enum ScipyGaussianFilter {
    static func filter(_ plane: [Double], width: Int, height: Int, sigma: Double) -> [Double] {
        let weights = kernel(sigma: sigma)
        let down = correlate(plane, count: height, step: width, lines: width, lineStride: 1, weights: weights)
        return correlate(down, count: width, step: 1, lines: height, lineStride: width, weights: weights)
    }

    /// `_gaussian_kernel1d(sigma, 0, radius)`: `exp(-0.5 / sigma^2 * x^2)` over `-radius...radius`,
    /// divided by its numpy (pairwise) sum.
    static func kernel(sigma: Double) -> [Double] {
        let radius = Int(4 * sigma + 0.5), factor = -0.5 / (sigma * sigma)
        let phi = (-radius...radius).map { exp(factor * Double($0 * $0)) }
        let sum = NumpySum.pairwise(phi)
        return phi.map { $0 / sum }
    }

    /// One 1-D correlation along an axis of `count` samples `step` apart, for `lines` lines
    /// starting `lineStride` apart. The kernel is symmetric, so scipy sums the centre tap, then
    /// each pair of taps at the same distance added first.
    private static func correlate(_ input: [Double], count: Int, step: Int, lines: Int, lineStride: Int, weights: [Double]) -> [Double] {
        let radius = weights.count / 2
        let source = (-radius..<(count + radius)).map { reflect($0, count) }
        var output = [Double](repeating: 0, count: input.count)
        for line in 0..<lines {
            let base = line * lineStride
            for i in 0..<count {
                var sum = input[base + source[i + radius] * step] * weights[radius]
                for j in stride(from: 1, through: radius, by: 1) {
                    sum += (input[base + source[i + radius + j] * step] + input[base + source[i + radius - j] * step]) * weights[radius + j]
                }
                output[base + i * step] = sum
            }
        }
        return output
    }

    /// scipy's `reflect` mode: index -1 is 0, index n is n - 1, repeating with period 2n.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        let period = 2 * n
        var k = i % period
        if k < 0 { k += period }
        return k < n ? k : period - 1 - k
    }
}
