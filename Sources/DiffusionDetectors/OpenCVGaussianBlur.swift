// Follows OpenCV's modules/imgproc/src/smooth.dispatch.cpp (GaussianBlur, getGaussianKernelBitExact,
// getGaussianKernelFixedPoint_ED) for `ksize=(0, 0)` and one sigma, default border.
import Foundation

/// `cv2.GaussianBlur(image, (0, 0), sigma)` on one channel, with OpenCV's default
/// `BORDER_REFLECT_101` (the row before the first is the second, ...).
///
/// The kernel size OpenCV derives from sigma is `round(sigma * 4 * 2 + 1) | 1` on floats and
/// `round(sigma * 3 * 2 + 1) | 1` on bytes. On floats the kernel is the normalized Gaussian in
/// float32, applied along rows then columns. On bytes OpenCV is bit-exact: the kernel in 8-bit
/// fixed point (rounded with error diffusion from the outside in, the centre taking what makes
/// the sum 256), integer sums, the result rounded from 16 fractional bits.
enum OpenCVGaussianBlur {
    /// The blurred float32 plane.
    static func blur(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        let kernel = gaussianKernel(size: Int((sigma * 8 + 1).rounded()) | 1, sigma: sigma).map(Float.init)
        let rows = filterRows(plane, width: width, height: height, kernel: kernel, zero: Float(0))
        return filterColumns(rows, width: width, height: height, kernel: kernel, zero: Float(0))
    }

    /// The blurred byte plane.
    static func blur(_ plane: [UInt8], width: Int, height: Int, sigma: Double) -> [UInt8] {
        let kernel = fixedPointKernel(gaussianKernel(size: Int((sigma * 6 + 1).rounded()) | 1, sigma: sigma))
        let rows = filterRows(plane.map(Int.init), width: width, height: height, kernel: kernel, zero: 0)
        let sums = filterColumns(rows, width: width, height: height, kernel: kernel, zero: 0)
        return sums.map { UInt8(clamping: ($0 + (1 << 15)) >> 16) }
    }

    /// `getGaussianKernelBitExact`: `exp(-x^2 / (2 sigma^2))` for the taps left of the centre,
    /// mirrored, the centre 1, all divided by their sum.
    static func gaussianKernel(size: Int, sigma: Double) -> [Double] {
        let half = (size - 1) / 2, scale = -0.125 / (sigma * sigma)
        var values: [Double] = [], sum = 0.0
        for i in 0..<half {
            let x = Double(2 * i + 1 - size)
            let t = exp(x * x * scale)
            values.append(t)
            sum += t
        }
        sum = sum * 2 + 1
        let inverse = 1 / sum
        let left = values.map { $0 * inverse }
        return left + [inverse] + left.reversed()
    }

    /// `getGaussianKernelFixedPoint_ED` with 8 fractional bits.
    static func fixedPointKernel(_ kernel: [Double]) -> [Int] {
        let half = kernel.count / 2
        var result = [Int](repeating: 0, count: kernel.count), error = 0.0, sum = 0
        for i in 0..<half {
            let adjusted = kernel[i] * 256 + error
            let value = Int(adjusted.rounded(.toNearestOrEven))
            error = adjusted - Double(value)
            result[i] = value
            result[kernel.count - 1 - i] = value
            sum += value
        }
        result[half] = 256 - 2 * sum
        return result
    }

    /// `BORDER_REFLECT_101` of index `i` on an axis of `n` (a one-pixel axis repeats its pixel).
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }

    private static func filterRows<T: Numeric>(_ plane: [T], width: Int, height: Int, kernel: [T], zero: T) -> [T] {
        let half = kernel.count / 2
        let columns = (-half..<(width + half)).map { reflect101($0, width) }
        var out = [T](repeating: zero, count: plane.count)
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                var sum = zero
                for k in 0..<kernel.count { sum += kernel[k] * plane[row + columns[x + k]] }
                out[row + x] = sum
            }
        }
        return out
    }

    private static func filterColumns<T: Numeric>(_ plane: [T], width: Int, height: Int, kernel: [T], zero: T) -> [T] {
        let half = kernel.count / 2
        let rows = (-half..<(height + half)).map { reflect101($0, height) }
        var out = [T](repeating: zero, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum = zero
                for k in 0..<kernel.count { sum += kernel[k] * plane[rows[y + k] * width + x] }
                out[y * width + x] = sum
            }
        }
        return out
    }
}
