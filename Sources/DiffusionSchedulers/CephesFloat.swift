// Follows PyTorch's aten/src/ATen/native/cpu/avx_mathfun.h (log256_ps, sincos256_ps), one lane.

/// The single-precision Cephes log and sincos that torch's vectorised `randn` uses.
///
/// Reproducing `torch.randn` bit for bit needs these exact polynomials and this exact order
/// of float operations, not the platform's correctly rounded libm. torch's wheels are built
/// by GCC with `-mfma` and its default `-ffp-contract=fast`, which fuses each multiply into
/// the add or subtract that consumes it (the first such multiply, in source order); the fused
/// operations below are exactly those.
enum CephesFloat {
    /// `a * b + c` with one rounding.
    private static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { c.addingProduct(a, b) }

    private static let sqrtHalf = Float(0.707106781186547524)
    private static let logP: [Float] = [
        7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
        -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1,
    ]
    private static let logQ1: Float = -2.12194440e-4, logQ2: Float = 0.693359375

    /// Natural log for positive normal inputs (torch only passes values in (0, 1]).
    static func log(_ value: Float) -> Float {
        let v = max(value, Float.leastNormalMagnitude)
        // Split into mantissa in [0.5, 1) and exponent, then fold to [sqrt(1/2) - 1, sqrt(2) - 1).
        var e = Float(Int32(v.bitPattern >> 23) - 0x7F) + 1
        var x = Float(bitPattern: (v.bitPattern & ~0x7F80_0000) | Float(0.5).bitPattern)
        if x < sqrtHalf {
            e -= 1
            x = (x - 1) + x
        } else {
            x = x - 1
        }
        let z = x * x
        var y = logP[0]
        for p in logP.dropFirst() { y = fma(y, x, p) }
        y = fma(y * x, z, e * logQ1)
        y = fma(-z, 0.5, y)
        return fma(e, logQ2, x + y)
    }

    private static let fourOverPi = Float(1.27323954473516)
    private static let minusDP1 = Float(-0.78515625), minusDP2 = Float(-2.4187564849853515625e-4)
    private static let minusDP3 = Float(-3.77489497744594108e-8)
    private static let sinP: [Float] = [-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1]
    private static let cosP: [Float] = [2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002]

    /// Sine and cosine of `value`, as `sincos256_ps` computes them.
    static func sincos(_ value: Float) -> (sin: Float, cos: Float) {
        var x = abs(value)
        // The octant j, rounded up to even, selects the polynomial and the signs.
        let j = (Int32(x * fourOverPi) + 1) & ~1
        let y = Float(j)
        x = fma(y, minusDP1, x)
        x = fma(y, minusDP2, x)
        x = fma(y, minusDP3, x)

        let z = x * x
        var cosine = fma(cosP[0], z, cosP[1])
        cosine = fma(cosine, z, cosP[2])
        cosine = fma(cosine * z, z, -(z * 0.5)) + 1
        var sine = fma(sinP[0], z, sinP[1])
        sine = fma(sine, z, sinP[2])
        sine = fma(sine * z, x, x)

        let usesSinePolynomial = j & 2 == 0
        var s = usesSinePolynomial ? sine : cosine
        var c = usesSinePolynomial ? cosine : sine
        if (j & 4 != 0) != (value.sign == .minus) { s = -s }
        if ~(j - 2) & 4 != 0 { c = -c }
        return (s, c)
    }
}
