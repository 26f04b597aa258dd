/// Vector versions of the transcendental functions the hot loops need, 8 lanes at a time.
///
/// `exp` is Cephes' `expf` scheme (also used by Eigen and PyTorch's vectorized CPU kernels):
/// x = n ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, then 2^n put in the exponent
/// bits. Relative error about 2 ulp over the whole float range.
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Written with lane-wise compares, adds and bit casts only: Swift's generic SIMD rounding and
    // float-to-int conversions are not lowered to vector instructions and cost 10x the rest.
    let low = SIMD8<Float>(repeating: -87.336_54), high = SIMD8<Float>(repeating: 88.722_83)
    var clamped = x.replacing(with: low, where: x .< low)
    clamped = clamped.replacing(with: high, where: clamped .> high)
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to nearest even and leaves n in the low bits.
    let shifter = SIMD8<Float>(repeating: 12_582_912)
    let shifted = clamped * 1.442_695_04 + shifter
    let n = shifted - shifter
    // ln 2 split in two so that n * ln2Hi is exact.
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_1e-4)
    p = p * r + 1.398_199_9e-3
    p = p * r + 8.333_452e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_5e-1
    p = p * r + 5e-1
    p = p * r * r + r + 1
    // 2^n: n + 127 in the exponent field (n >= -126 after the clamp).
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
    // Below the clamp e^x is subnormal or zero; zero is within 1.2e-38 of it.
    return (p * scale).replacing(with: 0, where: x .< low)
}

/// Eight floats from `p`, which need not be aligned.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// `destination[i] = source[i] * factor` for `count` floats (which may be in place).
@inline(__always)
func scaleFloats(_ source: UnsafePointer<Float>, by factor: Float, count: Int, into destination: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(destination + i).storeBytes(of: load8(source + i) * factor, as: SIMD8<Float>.self)
        i += 8
    }
    while i < count {
        destination[i] = source[i] * factor
        i += 1
    }
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), the formula PyTorch's
/// vectorized CPU `erf` (and so its GELU) uses: sign(x) (1 - t P(t) e^(-x^2)), t = 1 / (1 + p|x|).
@inline(__always)
func vectorErf(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let magnitude = x.replacing(with: -x, where: x .< 0)
    let t = 1 / (magnitude * Float(0.327_591_1) + 1)
    var r: SIMD8<Float> = t * Float(1.061_405_429) - Float(1.453_152_027)
    r = r * t + Float(1.421_413_741)
    r = r * t - Float(0.284_496_736)
    r = r * t + Float(0.254_829_592)
    let y = 1 - r * t * vectorExp(-(x * x))
    return y.replacing(with: -y, where: x .< 0)
}

extension Activation {
    /// The activation on 8 values at once.
    @inline(__always)
    func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .silu: return x / (1 + vectorExp(-x))
        case .geluErf: return 0.5 * x * (1 + vectorErf(x * 0.707_106_781_186_547_52))
        case .geluTanh:
            // tanh(u) = 1 - 2 / (e^(2u) + 1).
            let u = 0.797_884_560_802_865_36 * (x + 0.044715 * x * x * x)
            return 0.5 * x * (2 - 2 / (vectorExp(2 * u) + 1))
        case .quickGELU: return x / (1 + vectorExp(-1.702 * x))
        }
    }

    /// Applies the activation to `count` floats from `source` into `destination` (which may be the same).
    func apply(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        var j = 0
        while j + 8 <= count {
            UnsafeMutableRawPointer(destination + j).storeBytes(of: self(load8(source + j)), as: SIMD8<Float>.self)
            j += 8
        }
        while j < count {
            destination[j] = self(source[j])
            j += 1
        }
    }
}
