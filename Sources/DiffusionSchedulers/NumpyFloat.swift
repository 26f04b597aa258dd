// Follows numpy's numpy/_core/src/umath/loops_exponent_log.dispatch.c.src (simd_log_FLOAT), one lane.
import Foundation

/// numpy's single-precision `np.log` as its AVX2/AVX512F loops compute it.
///
/// numpy does not call libm for float32 logs on x86-64: it evaluates a 5/5 rational
/// approximation with fused multiply-adds, up to ~4 ulp from the correctly rounded value. The
/// diffusers code that takes float32 logs through numpy (DEIS's `ind_fn`) subtracts nearly equal
/// results, so reproducing it needs this exact evaluation, not the platform's logf.
enum NumpyFloat {
    private static let p: [Float] = [
        0, 9.999999999999998702752e-01, 2.112677543073053063722e+00, 1.480000633576506585156e+00,
        3.808837741388407920751e-01, 2.589979117907922693523e-02,
    ]
    private static let q: [Float] = [
        1, 2.612677543073109236779e+00, 2.453006071784736363091e+00, 9.864942958519418960339e-01,
        1.546476374983906719538e-01, 5.875095403124574342950e-03,
    ]
    private static let ln2 = Float(0.693147180559945309417)
    private static let sqrtHalf = Float(0.707106781186547524401)

    /// `np.log(np.float32(x))` for a positive normal `x`; other inputs take the IEEE results
    /// numpy gives them (nan, -inf, inf), computed by libm.
    static func log(_ x: Float) -> Float {
        guard x.isNormal, x > 0, x.isFinite else { return Foundation.log(x) }
        // x = m * 2^e with m in [0.5, 1), moved to [sqrt(1/2), sqrt(2)).
        var m = Float(bitPattern: (x.bitPattern & 0x7F_FFFF) | (126 << 23))
        var e = Float(Int(x.bitPattern >> 23) - 126)
        if m <= sqrtHalf {
            m = m + m
            e = e - 1
        }
        let r = m - 1
        var numerator = p[5], denominator = q[5]
        for k in (0..<5).reversed() {
            numerator = p[k].addingProduct(numerator, r)
            denominator = q[k].addingProduct(denominator, r)
        }
        return (numerator / denominator).addingProduct(e, ln2)
    }
}
