// Follows scipy.stats.beta.ppf as diffusers' _convert_to_beta calls it (scipy/special ibeta_inv).
import Foundation

/// The beta distribution's quantile function in double precision, for `use_beta_sigmas`.
///
/// scipy inverts the regularized incomplete beta function to double precision; here the
/// function is evaluated by its continued fraction (Lentz's method) and inverted by bisection,
/// which converges to the neighbouring doubles of the exact quantile. Both round to the same
/// float32 sigma unless the quantile sits within ~1e-16 of a float32 rounding boundary.
enum BetaDistribution {
    /// The `p` quantile of Beta(a, b): the x in [0, 1] with I_x(a, b) = p.
    static func ppf(_ p: Double, a: Double, b: Double) -> Double {
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        var low = 0.0, high = 1.0
        while true {
            let middle = (low + high) / 2
            guard middle > low, middle < high else { return middle }
            if regularizedIncompleteBeta(middle, a: a, b: b) < p { low = middle } else { high = middle }
        }
    }

    /// I_x(a, b), by the continued fraction on whichever side converges fast.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of I_x(a, b) (Numerical Recipes' betacf), to double precision.
    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var result = d
        for m in 1...1000 {
            let m = Double(m), m2 = 2 * m
            for numerator in [m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                              -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))] {
                d = 1 + numerator * d
                d = 1 / (abs(d) < tiny ? tiny : d)
                c = 1 + numerator / c
                if abs(c) < tiny { c = tiny }
                result *= d * c
            }
            if abs(d * c - 1) < 1e-16 { break }
        }
        return result
    }
}
