// Follows the update formulas shared by diffusers' scheduling_dpmsolver_multistep.py and
// scheduling_dpmsolver_singlestep.py (dpm_solver_first_order_update and the
// *_second/third_order_update functions).
import Foundation

/// The `algorithm_type` of DPM-Solver: data prediction (`++`) or noise prediction, each as an
/// ODE or an SDE solver.
enum DPMSolverAlgorithm: String {
    case dpmsolverPlusPlus = "dpmsolver++", dpmsolver, sdeDpmsolverPlusPlus = "sde-dpmsolver++", sdeDpmsolver = "sde-dpmsolver"

    /// Reads `algorithm_type` (diffusers maps "deis" to dpmsolver++) among `supported`.
    init(_ scheduler: String, config: SchedulerConfig, supported: [DPMSolverAlgorithm]) throws {
        let value = config.algorithmType ?? "dpmsolver++"
        let read = value == "deis" ? .dpmsolverPlusPlus : DPMSolverAlgorithm(rawValue: value)
        guard let algorithm = read, supported.contains(algorithm) else {
            throw SchedulerError.unsupportedOption(scheduler: scheduler, option: "algorithm_type", value: value)
        }
        self = algorithm
    }

    /// Whether the model output is converted to x0 (otherwise to noise).
    var predictsData: Bool { self == .dpmsolverPlusPlus || self == .sdeDpmsolverPlusPlus }
    /// Whether each step adds fresh noise.
    var isStochastic: Bool { self == .sdeDpmsolverPlusPlus || self == .sdeDpmsolver }

    /// Reads `solver_type`: true for "heun", false for "midpoint" (diffusers maps the DEIS and
    /// UniPC solver types to midpoint).
    static func usesHeun(_ scheduler: String, config: SchedulerConfig) throws -> Bool {
        let value = config.solverType ?? "midpoint"
        try config.require(scheduler, .solverType, value, in: ["midpoint", "heun", "logrho", "bh1", "bh2"])
        return value == "heun"
    }
}

/// The float32 scalar coefficients of one DPM-Solver update from the `base` point (where the
/// sample is) to `target`, over the log-SNR step `h`, in diffusers' order of operations.
struct DPMSolverCoefficients {
    let algorithm: DPMSolverAlgorithm
    let target: SolverPoint
    let base: SolverPoint
    let h: Float

    init(_ algorithm: DPMSolverAlgorithm, from base: SolverPoint, to target: SolverPoint) {
        self.algorithm = algorithm
        self.base = base
        self.target = target
        h = target.lambda - base.lambda
    }

    private var at: Float { target.alpha }
    private var st: Float { target.sigma }

    var sample: Float {
        switch algorithm {
        case .dpmsolverPlusPlus: return st / base.sigma
        case .sdeDpmsolverPlusPlus: return st / base.sigma * exp(-h)
        case .dpmsolver, .sdeDpmsolver: return at / base.alpha
        }
    }

    /// The coefficient of D0, the first-order term.
    var first: Float {
        switch algorithm {
        case .dpmsolverPlusPlus: return -(at * (exp(-h) - 1))
        case .dpmsolver: return -(st * (exp(h) - 1))
        case .sdeDpmsolverPlusPlus: return at * (1 - exp(-2 * h))
        case .sdeDpmsolver: return -(2 * (st * (exp(h) - 1)))
        }
    }

    /// The coefficient of D1 in the midpoint second-order update.
    var midpoint: Float {
        switch algorithm {
        case .dpmsolverPlusPlus: return -(0.5 * (at * (exp(-h) - 1)))
        case .dpmsolver: return -(0.5 * (st * (exp(h) - 1)))
        case .sdeDpmsolverPlusPlus: return 0.5 * (at * (1 - exp(-2 * h)))
        case .sdeDpmsolver: return -(st * (exp(h) - 1))
        }
    }

    /// The coefficient of D1 in the Heun second-order and in the third-order updates.
    var heun: Float {
        switch algorithm {
        case .dpmsolverPlusPlus: return at * ((exp(-h) - 1) / h + 1)
        case .dpmsolver: return -(st * ((exp(h) - 1) / h - 1))
        case .sdeDpmsolverPlusPlus: return at * ((1 - exp(-2 * h)) / (-2 * h) + 1)
        case .sdeDpmsolver: return -(2 * (st * ((exp(h) - 1) / h - 1)))
        }
    }

    /// The coefficient of D2 in the third-order updates (diffusers has none for sde-dpmsolver).
    var second: Float {
        switch algorithm {
        case .dpmsolverPlusPlus: return -(at * ((exp(-h) - 1 + h) / (h * h) - 0.5))
        case .dpmsolver, .sdeDpmsolver: return -(st * ((exp(h) - 1 - h) / (h * h) - 0.5))
        case .sdeDpmsolverPlusPlus: return at * ((1 - exp(-2 * h) - 2 * h) / ((2 * h) * (2 * h)) - 0.5)
        }
    }

    /// The coefficient of the fresh noise of the SDE variants.
    var noise: Float {
        algorithm == .sdeDpmsolver ? st * (exp(2 * h) - 1).squareRoot() : st * (1 - exp(-2 * h)).squareRoot()
    }

    /// r = h_k / h: the log-SNR step from `start` to `end` as a fraction of this update's.
    func ratio(_ start: SolverPoint, _ end: SolverPoint) -> Float { (end.lambda - start.lambda) / h }

    /// The second-order update from D0 = `d0` with D1 = (m0 - m1) / r0, by the Heun or the
    /// midpoint rule; the multistep class takes D0 = m0, the singlestep one D0 = m1.
    func secondOrder(
        _ sample: [Float], d0: [Float], m0: [Float], m1: [Float], r0: Float, usesHeun: Bool, noise: [Float]?
    ) -> [Float] {
        let scale = 1 / r0
        let d1 = Latent.combine(m0, m1) { scale * ($0 - $1) }
        return update(sample, d0, [(usesHeun ? heun : midpoint, d1)], noise: noise)
    }

    /// `sample * c + D0 * first + extra terms (+ noise)`, summed in diffusers' order.
    func update(_ sample: [Float], _ d0: [Float], _ terms: [(Float, [Float])], noise: [Float]?) -> [Float] {
        var all = [(self.sample, sample), (first, d0)] + terms
        if let noise { all.append((self.noise, noise)) }
        return Latent.linear(all)
    }
}
