/// Vector versions of the transcendental functions the hot loops need, 8 lanes at a time.
///
/// `exp` is Cephes' `expf` scheme (also used by Eigen and PyTorch's vectorized CPU kernels):
/// x = n ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, then 2^n put in the exponent
/// bits. Relative error about 2 ulp over the whole float range.
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Beyond these e^x overflows to infinity or underflows to zero in float32.
    let clamped = x.clamped(lowerBound: SIMD8(repeating: -87.336_54), upperBound: SIMD8(repeating: 88.722_83))
    let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
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
    let biased = SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int32>(n) &+ 127) &<< 23
    let result = p * unsafeBitCast(biased, to: SIMD8<Float>.self)
    // Below the clamp e^x is subnormal or zero; zero is within 1.2e-38 of it.
    return result.replacing(with: 0, where: x .< -87.336_54)
}

/// Eight floats from `p`, which need not be aligned.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
