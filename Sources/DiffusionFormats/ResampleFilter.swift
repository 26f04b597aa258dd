// Follows Pillow's src/libImaging/Resample.c (filters and precompute_coeffs, normalize_coeffs_8bpc).
import Foundation

/// The convolution filters of Pillow's `Image.resize`, with their kernels written exactly
/// as Pillow evaluates them in double precision (same operations, same order), so the
/// fixed-point coefficients come out bit for bit the same.
public enum ResampleFilter: Sendable, CaseIterable {
    /// `Image.Resampling.BOX`: each output pixel averages the source pixels it covers.
    case box
    /// `Image.Resampling.BILINEAR`: the triangle filter.
    case bilinear
    /// `Image.Resampling.HAMMING`.
    case hamming
    /// `Image.Resampling.BICUBIC`: cubic convolution with a = -0.5 (CLIP preprocessing).
    case bicubic
    /// `Image.Resampling.LANCZOS`: sinc windowed by sinc over 3 lobes (the control image).
    case lanczos

    /// Half the kernel's width, in source pixels at scale 1.
    var support: Double {
        switch self {
        case .box: 0.5
        case .bilinear, .hamming: 1
        case .bicubic: 2
        case .lanczos: 3
        }
    }

    func weight(_ x: Double) -> Double {
        switch self {
        case .box: return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(x)
            return x < 1 ? 1 - x : 0
        case .hamming:
            let x = abs(x)
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            let angle = x * Double.pi
            // Pillow writes the window's constants as C floats (0.54f, 0.46f).
            return sin(angle) / angle * (Double(Float(0.54)) + Double(Float(0.46)) * cos(angle))
        case .bicubic:
            let a = -0.5, x = abs(x)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            return -3 <= x && x < 3 ? Self.sinc(x) * Self.sinc(x / 3) : 0
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let angle = x * Double.pi
        return sin(angle) / angle
    }
}

/// The weights of one resampling pass along one axis: for each output pixel, the first
/// source pixel it reads and the fixed-point weights (22 fractional bits) of the run of
/// source pixels from there, as Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`.
struct ResampleCoefficients {
    /// Fractional bits of the weights: 32 bits less 8 for the sample and 2 of headroom
    /// for filters whose partial sums overshoot.
    static let precisionBits = 22

    /// The first source pixel of each output pixel.
    let first: [Int]
    /// How many source pixels each output pixel reads.
    let count: [Int]
    /// `kernelSize` weights per output pixel; only the first `count[i]` are used.
    let weights: [Int32]
    let kernelSize: Int

    /// The coefficients of the output pixels `outputs` (all of them by default) of a resize
    /// from `inputSize` to `outputSize`; `first[0]` is that of `outputs.lowerBound`. Each output
    /// pixel's weights depend only on its own position, so a window of the output costs only
    /// its own size, however large the whole resize would be.
    init(inputSize: Int, outputSize: Int, outputs: Range<Int>? = nil, filter: ResampleFilter) {
        let outputs = outputs ?? 0..<outputSize
        // Pillow takes the source extent from a float box (0, size); the scale is that
        // float difference over the output size, in double.
        let scale = Double(Float(inputSize)) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let inverseFilterScale = 1 / filterScale
        kernelSize = Int(ceil(support)) * 2 + 1
        var first = [Int](repeating: 0, count: outputs.count)
        var count = [Int](repeating: 0, count: outputs.count)
        var weights = [Int32](repeating: 0, count: outputs.count * kernelSize)
        var kernel = [Double](repeating: 0, count: kernelSize)
        for (output, position) in outputs.enumerated() {
            let center = (Double(position) + 0.5) * scale
            // C's (int) conversion truncates toward zero, as Int(_:) does.
            let low = max(Int(center - support + 0.5), 0)
            let taps = max(min(Int(center + support + 0.5), inputSize) - low, 0)
            var total = 0.0
            for tap in 0..<taps {
                kernel[tap] = filter.weight((Double(tap + low) - center + 0.5) * inverseFilterScale)
                total += kernel[tap]
            }
            for tap in 0..<taps {
                let normalized = total != 0 ? kernel[tap] / total : kernel[tap]
                weights[output * kernelSize + tap] = Self.fixedPoint(normalized)
            }
            first[output] = low
            count[output] = taps
        }
        self.first = first
        self.count = count
        self.weights = weights
    }

    /// Rounds half away from zero, as `normalize_coeffs_8bpc` does.
    private static func fixedPoint(_ weight: Double) -> Int32 {
        let scaled = weight * Double(1 << precisionBits)
        return Int32(weight < 0 ? -0.5 + scaled : 0.5 + scaled)
    }

    /// A weighted sum back to 8 bits: the accumulator starts at one half (so the shift
    /// rounds), and Pillow's clip8 table clamps to 0...255.
    @inline(__always)
    static func clip8(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> Int32(precisionBits))
    }

    static let rounding = Int32(1 << (precisionBits - 1))
}
