// Follows PyTorch's CPU generator: ATen/CPUGeneratorImpl.cpp, ATen/core/MT19937RNGEngine.h,
// ATen/core/DistributionsHelper.h and ATen/native/cpu/DistributionTemplates.h (normal_kernel).
import Foundation

/// A source of standard-normal float32 noise, owned by one sample of a generation.
///
/// Schedulers never hold global random state: every stochastic step takes the sample's
/// source as an `inout` argument, so one sample's noise never depends on the others.
public protocol RandomSource {
    /// Draws `count` standard-normal values, as `torch.randn(count)` does from this source.
    mutating func randn(_ count: Int) -> [Float]
}

/// Reproduces `torch.Generator("cpu").manual_seed(seed)` followed by `torch.randn(shape)`
/// (float32) bit for bit, including how successive draws continue the stream.
///
/// torch fills a float tensor of 16 or more elements with `normal_fill`: one 24-bit uniform
/// per element, then Box-Muller over blocks of 16 (the first 8 values feed the radius, the
/// last 8 the angle); when the size is not a multiple of 16 it draws 16 fresh uniforms and
/// recomputes the last 16 values. Smaller tensors draw one double-precision normal per
/// element, the second value of each Box-Muller pair being cached on the generator.
///
/// torch as pinned here takes the vectorised Box-Muller on AVX2 and AVX512 CPUs, which every
/// target of this package is; with `ATEN_CPU_CAPABILITY=default` torch takes a scalar libm
/// path whose values differ in the last bit (see Docs/SCHEDULERS.md).
public struct TorchRandomSource: RandomSource {
    private var engine: MT19937
    /// The sine half of the last double Box-Muller pair, which torch keeps on the generator.
    private var nextDoubleNormal: Double?

    /// Seeds like `manual_seed(seed)`: torch keeps the full 64-bit seed but its mt19937
    /// is initialised from the low 32 bits only, so seeds `s` and `s + 2^32` give one stream.
    public init(seed: UInt64) {
        engine = MT19937(seed: UInt32(truncatingIfNeeded: seed))
    }

    public mutating func randn(_ count: Int) -> [Float] {
        count >= 16 ? normalFill(count) : (0..<count).map { _ in Float(normalDouble()) }
    }

    /// `uniform_real_distribution<float>`: the low 24 bits of one 32-bit draw, in [0, 1).
    private mutating func uniformFloat() -> Float {
        Float(engine.next() & 0xFF_FFFF) * (1.0 / Float(1 << 24))
    }

    /// `uniform_real_distribution<double>`: the low 53 bits of `random64()`, whose first
    /// 32-bit draw is the high word.
    private mutating func uniformDouble() -> Double {
        let high = UInt64(engine.next()), low = UInt64(engine.next())
        return Double(((high << 32) | low) & ((1 << 53) - 1)) * (1.0 / Double(UInt64(1) << 53))
    }

    /// `normal_distribution<double>` with its cached second value.
    private mutating func normalDouble() -> Double {
        if let cached = nextDoubleNormal {
            nextDoubleNormal = nil
            return cached
        }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        nextDoubleNormal = r * sin(theta)
        return r * cos(theta)
    }

    /// `normal_fill` for float tensors of 16 or more elements.
    private mutating func normalFill(_ count: Int) -> [Float] {
        var data = (0..<count).map { _ in uniformFloat() }
        var start = 0
        while start + 16 <= count {
            Self.normalFill16(&data, at: start)
            start += 16
        }
        if count % 16 != 0 {
            for i in count - 16..<count { data[i] = uniformFloat() }
            Self.normalFill16(&data, at: count - 16)
        }
        return data
    }

    /// `normal_fill_16_AVX2`, which torch runs on AVX2 and AVX512 CPUs: everything in float,
    /// with the Cephes polynomial log and sincos of `avx_mathfun.h` (not libm), so the last bit
    /// differs from the scalar `normal_fill_16` for many values.
    private static func normalFill16(_ data: inout [Float], at start: Int) {
        let twoPi = Float(2.0 * Double.pi)
        for j in start..<start + 8 {
            let radius = (-2 * CephesFloat.log(1 - data[j])).squareRoot()
            let (sine, cosine) = CephesFloat.sincos(twoPi * data[j + 8])
            data[j] = radius * cosine
            data[j + 8] = radius * sine
        }
    }
}

/// The 32-bit Mersenne Twister as `at::mt19937` runs it.
struct MT19937 {
    private static let n = 624, m = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<Self.n {
            let previous = state[i - 1]
            state[i] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= Self.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for i in 0..<Self.n {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % Self.n] & 0x7FFF_FFFF)
            state[i] = state[(i + Self.m) % Self.n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        index = 0
    }
}
