// Follows scipy.ndimage's gaussian_filter (_filters.py: _gaussian_kernel1d, correlate1d; ni_filters.c).
import Foundation

/// `scipy.ndimage.gaussian_filter(plane, sigma)` on a float64 plane with scipy's defaults: a
/// kernel of radius `int(4 * sigma + 0.5)`, mode `reflect` (the edge pixel repeated:
/// `d c b a | a b c d`), filtered along the first axis (down columns), then the second.
///
/// The kernel is symmetric, so scipy sums the centre tap first, then each pair of taps at the
/// same distance, added together before weighting; the same order here gives the same float64
/// values. The column pass runs a row at a time over whole rows, which vectorizes.
enum ScipyGaussianFilter {
    static func filter(_ plane: [Double], width: Int, height: Int, sigma: Double) -> [Double] {
        let weights = kernel(sigma: sigma), radius = weights.count / 2
        var down = [Double](repeating: 0, count: plane.count)
        let rows = (-radius..<(height + radius)).map { reflect($0, height) }
        plane.withUnsafeBufferPointer { input in
            down.withUnsafeMutableBufferPointer { output in
                for y in 0..<height {
                    let out = output.baseAddress! + y * width, center = input.baseAddress! + rows[y + radius] * width
                    for x in 0..<width { out[x] = center[x] * weights[radius] }
                    for j in stride(from: 1, through: radius, by: 1) {
                        let below = input.baseAddress! + rows[y + radius + j] * width
                        let above = input.baseAddress! + rows[y + radius - j] * width
                        let w = weights[radius + j]
                        for x in 0..<width { out[x] += (below[x] + above[x]) * w }
                    }
                }
            }
        }
        var result = [Double](repeating: 0, count: plane.count)
        let columns = (-radius..<(width + radius)).map { reflect($0, width) }
        down.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                var line = [Double](repeating: 0, count: width + 2 * radius)
                for y in 0..<height {
                    let row = input.baseAddress! + y * width, out = output.baseAddress! + y * width
                    for i in line.indices { line[i] = row[columns[i]] }
                    line.withUnsafeBufferPointer { line in
                        let l = line.baseAddress! + radius
                        for x in 0..<width {
                            var sum = l[x] * weights[radius]
                            for j in stride(from: 1, through: radius, by: 1) { sum += (l[x + j] + l[x - j]) * weights[radius + j] }
                            out[x] = sum
                        }
                    }
                }
            }
        }
        return result
    }

    /// `_gaussian_kernel1d(sigma, 0, radius)`: `exp(-0.5 / sigma^2 * x^2)` over `-radius...radius`,
    /// divided by its numpy (pairwise) sum.
    static func kernel(sigma: Double) -> [Double] {
        let radius = Int(4 * sigma + 0.5), factor = -0.5 / (sigma * sigma)
        let phi = (-radius...radius).map { exp(factor * Double($0 * $0)) }
        let sum = NumpySum.pairwise(phi)
        return phi.map { $0 / sum }
    }

    /// scipy's `reflect` mode: index -1 is 0, index n is n - 1, repeating with period 2n.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        let period = 2 * n
        var k = i % period
        if k < 0 { k += period }
        return k < n ? k : period - 1 - k
    }
}
