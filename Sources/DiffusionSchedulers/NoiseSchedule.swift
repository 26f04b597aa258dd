// Follows the shared parts of diffusers' schedulers: the beta schedules of each __init__,
// betas_for_alpha_bar, rescale_zero_terminal_snr, and the timestep spacings of set_timesteps.
import Foundation

/// The training noise schedule: betas and the cumulative alpha products, in float32 as
/// diffusers keeps them in torch tensors.
struct NoiseSchedule {
    let betas: [Float]
    let alphasCumprod: [Float]

    /// The options every class reads, at that class's defaults.
    struct Options {
        var numTrainTimesteps = 1000
        var betaStart = 0.0001
        var betaEnd = 0.02
        var betaSchedule = "linear"
        var rescaleBetasZeroSnr = false
        /// Whether the class replaces a zero terminal alphas_cumprod by 2^-24 (the sigma-based ones).
        var nudgesTerminalAlpha = false
        /// Whether the class has the rescale_betas_zero_snr option at all; from_config drops the
        /// key for the classes that do not.
        var hasZeroSnrOption = true
    }

    /// Every class builds its noise schedule first, so the config's values are checked here.
    init(_ scheduler: String, config: SchedulerConfig, defaults: Options = Options()) throws {
        try config.validate(scheduler, defaults: defaults)
        let count = config.numTrainTimesteps ?? defaults.numTrainTimesteps
        let start = config.betaStart ?? defaults.betaStart, end = config.betaEnd ?? defaults.betaEnd
        var betas: [Float]
        if let trained = config.trainedBetas {
            betas = trained.map { Float($0) }
        } else {
            let schedule = config.betaSchedule ?? defaults.betaSchedule
            switch schedule {
            case "linear": betas = Self.torchLinspace(Float(start), Float(end), count)
            case "scaled_linear":
                betas = Self.torchLinspace(Float(start.squareRoot()), Float(end.squareRoot()), count).map { $0 * $0 }
            case "squaredcos_cap_v2": betas = Self.cosineBetas(count)
            default:
                throw SchedulerError.unsupportedOption(scheduler: scheduler, option: "beta_schedule", value: schedule)
            }
        }
        try Self.requirePositiveAlphas(betas, scheduler, config: config)
        let zeroSnr = defaults.hasZeroSnrOption && (config.rescaleBetasZeroSnr ?? defaults.rescaleBetasZeroSnr)
        if zeroSnr { betas = Self.rescaledToZeroTerminalSnr(betas) }
        self.betas = betas
        var cumprod = Self.cumprod(betas.map { 1 - $0 })
        // The sigma-based classes nudge the last value off zero so that sigma stays finite.
        if zeroSnr && defaults.nudgesTerminalAlpha { cumprod[cumprod.count - 1] = 0x1p-24 }
        alphasCumprod = cumprod
    }

    /// Throws unless the float32 betas lie in ]0, 1[ and keep every training sigma,
    /// sqrt((1 - alphas_cumprod) / alphas_cumprod), finite: values that pass as doubles can
    /// still round to 0 or 1, and long schedules drive the product below float32's range
    /// (NaN timesteps, then an index past the schedule, in the sigma-based classes).
    private static func requirePositiveAlphas(_ betas: [Float], _ scheduler: String, config: SchedulerConfig) throws {
        // alphas_cumprod decreases, so its last value gives the largest sigma.
        guard betas.allSatisfy({ $0 > 0 && $0 < 1 }), let last = cumprod(betas.map { 1 - $0 }).last, last > 0,
              ((1 - last) / last).isFinite
        else {
            let field = config.trainedBetas != nil ? "trained_betas" : "beta_start/beta_end/num_train_timesteps"
            throw SchedulerError.invalidValue(
                scheduler: scheduler, field: field, value: "betas in [\(betas.min() ?? 0), \(betas.max() ?? 0)]",
                rule: "betas whose float32 values lie in ]0, 1[ and keep every training sigma finite")
        }
    }

    /// `torch.linspace(start, end, count, dtype=float32)`: the step is a float and each half is
    /// measured from its own end. (torch's vectorised fill can differ by one ulp in places.)
    static func torchLinspace(_ start: Float, _ end: Float, _ count: Int) -> [Float] {
        guard count > 1 else { return [start] }
        let step = (end - start) / Float(count - 1)
        return (0..<count).map { i in
            i < count / 2 ? start + step * Float(i) : end - step * Float(count - i - 1)
        }
    }

    /// `torch.cumprod` of float32 values, which accumulates in double on the CPU.
    static func cumprod(_ values: [Float]) -> [Float] {
        var product = 1.0
        return values.map { value in
            product *= Double(value)
            return Float(product)
        }
    }

    /// `betas_for_alpha_bar` with the cosine transform (in double, as Python computes it).
    static func cosineBetas(_ count: Int) -> [Float] {
        func alphaBar(_ t: Double) -> Double {
            let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
            return c * c
        }
        return (0..<count).map { i in
            let t1 = Double(i) / Double(count), t2 = Double(i + 1) / Double(count)
            return Float(min(1 - alphaBar(t2) / alphaBar(t1), 0.999))
        }
    }

    /// `rescale_zero_terminal_snr`, in float32 like the torch code.
    static func rescaledToZeroTerminalSnr(_ betas: [Float]) -> [Float] {
        var roots = cumprod(betas.map { 1 - $0 }).map { $0.squareRoot() }
        let first = roots[0], last = roots[roots.count - 1]
        let scale = first / (first - last)
        roots = roots.map { ($0 - last) * scale }
        let bars = roots.map { $0 * $0 }
        return bars.indices.map { i in 1 - (i == 0 ? bars[0] : bars[i] / bars[i - 1]) }
    }

    /// `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`, ascending in t.
    var sigmas: [Float] { alphasCumprod.map { ((1 - $0) / $0).squareRoot() } }
}

/// The three `timestep_spacing` rules of set_timesteps, in numpy float64 before any cast.
enum TimestepSpacing {
    /// `np.linspace(start, stop, count)`: `i * step + start`, the last value exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? stop : Double($0) * step + start }
    }

    /// `np.arange(start, stop, step)` for a negative float step.
    static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
        let count = Int(((stop - start) / step).rounded(.up))
        return (0..<max(count, 0)).map { start + Double($0) * step }
    }

    /// numpy's `round`: halves go to the even neighbour.
    static func round(_ values: [Double]) -> [Double] { values.map { $0.rounded(.toNearestOrEven) } }
}

/// Sigma-schedule helpers shared by the sigma-based (Karras-style) schedulers.
enum SigmaSchedule {
    /// `np.interp(x, arange(len(table)), table)` for x within the table.
    static func interpolate(_ x: Double, in table: [Float]) -> Double {
        let low = min(max(Int(x.rounded(.down)), 0), table.count - 1)
        let high = min(low + 1, table.count - 1)
        let w = x - Double(low)
        // numpy evaluates slope * (x - xp[j]) + fp[j].
        return (Double(table[high]) - Double(table[low])) * w + Double(table[low])
    }

    /// `_convert_to_karras`: rho = 7 between `sigmaMin` and `sigmaMax`, descending.
    static func karras(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        let rho = 7.0
        let minInvRho = pow(sigmaMin, 1 / rho), maxInvRho = pow(sigmaMax, 1 / rho)
        return TimestepSpacing.linspace(0, 1, count).map { pow(maxInvRho + $0 * (minInvRho - maxInvRho), rho) }
    }

    /// `_convert_to_exponential`: evenly spaced in log sigma, descending.
    static func exponential(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        TimestepSpacing.linspace(log(sigmaMax), log(sigmaMin), count).map { exp($0) }
    }

    /// `_convert_to_beta`: the quantiles of Beta(0.6, 0.6) at 1 - linspace(0, 1), descending.
    static func beta(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        TimestepSpacing.linspace(0, 1, count).map { ramp in
            sigmaMin + BetaDistribution.ppf(1 - ramp, a: 0.6, b: 0.6) * (sigmaMax - sigmaMin)
        }
    }

    /// `_convert_to_lu` (rho = 1) then `exp`: evenly spaced between the largest and smallest
    /// training log sigmas.
    static func lu(logSigmas: [Float], count: Int) -> [Double] {
        let lambdaMin = Double(logSigmas[0]), lambdaMax = Double(logSigmas[logSigmas.count - 1])
        return TimestepSpacing.linspace(0, 1, count).map { exp(lambdaMax + $0 * (lambdaMin - lambdaMax)) }
    }

    /// `_sigma_to_t`: the fractional training timestep whose log sigma matches, by linear
    /// interpolation in the float32 `logSigmas` table (ascending).
    static func sigmaToT(_ sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = log(max(sigma, 1e-10))
        let lastAtOrBelow = logSigmas.lastIndex { logSigma - Double($0) >= 0 } ?? 0
        let low = min(lastAtOrBelow, logSigmas.count - 2), high = low + 1
        let lowValue = Double(logSigmas[low]), highValue = Double(logSigmas[high])
        let w = min(max((lowValue - logSigma) / (lowValue - highValue), 0), 1)
        return (1 - w) * Double(low) + w * Double(high)
    }

    /// The index of `timestep` in `timesteps`; the second match when there are several,
    /// as diffusers picks it so that a schedule started midway does not skip a step.
    static func index(of timestep: Double, in timesteps: [Double]) -> Int {
        let matches = timesteps.indices.filter { timesteps[$0] == timestep }
        return matches.count > 1 ? matches[1] : (matches.first ?? timesteps.count - 1)
    }
}
