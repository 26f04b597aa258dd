// Follows diffusers/schedulers/scheduling_unipc_multistep.py.
import Foundation

/// Matches diffusers' `UniPCMultistepScheduler`: a UniP predictor of up to `solver_order`, and
/// from the second step a UniC corrector that refines the previous result with the new model
/// output. Honours beta schedules, trained betas, prediction_type, solver_order, solver_type
/// (bh1, bh2; diffusers maps the DPM-Solver and DEIS types to bh2), predict_x0,
/// lower_order_final, disable_corrector, final_sigmas_type, karras/exponential/beta sigmas with
/// sigma_min/sigma_max, thresholding, timestep_spacing, steps_offset and
/// rescale_betas_zero_snr. Refused: flow sigmas, dynamic shifting, and
/// predict_x0 = false with a zero final sigma (diffusers returns NaN).
public struct UniPCMultistepScheduler: Scheduler {
    public let name = "UniPCMultistepScheduler"
    public let order = 1
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public let initNoiseSigma: Float = 1

    private let output: SolverModelOutput
    private let usesBh1: Bool
    private let predictsData: Bool
    private let lowerOrderFinal: Bool
    private let disabledCorrector: [Int]
    private let finalSigmaIsZero: Bool
    private var state: SolverState
    private var lastSample: [Float]?
    private var lastOrder = 1

    public init(config: SchedulerConfig) throws {
        let noise = try NoiseSchedule(name, config: config, defaults: .init(nudgesTerminalAlpha: true))
        output = try SolverModelOutput(name, config: config)
        let solverOrder = try SolverSchedule.solverOrder(name, config: config)
        let solver = config.solverType ?? "bh2"
        try config.require(name, .solverType, solver, in: ["bh1", "bh2", "midpoint", "heun", "logrho"])
        usesBh1 = solver == "bh1"
        predictsData = config.predictX0 ?? true
        lowerOrderFinal = config.lowerOrderFinal ?? true
        disabledCorrector = config.disableCorrector ?? []
        finalSigmaIsZero = try config.finalSigmaIsZero(name)
        // The noise-prediction update divides by an infinite log-SNR step at a zero final sigma;
        // diffusers returns NaN there.
        if !predictsData && finalSigmaIsZero {
            throw SchedulerError.unsupportedOption(scheduler: name, option: "predict_x0", value: "false with final_sigmas_type zero")
        }
        var options = try SolverSchedule.Options(name, config: config)
        options.sigmaMin = config.sigmaMin
        options.sigmaMax = config.sigmaMax
        state = SolverState(noise: noise, options: options, solverOrder: solverOrder)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        // sigma_min means the schedule's own last sigma for converted sigmas, the training one otherwise.
        let isZero = finalSigmaIsZero
        try state.setTimesteps(name, steps: numInferenceSteps) { isZero ? .zero : ($0 == .interpolated ? .trainingMinimum : .repeatLast) }
        lastSample = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let point = state.points[index]
        let converted = predictsData
            ? output.data(modelOutput, sample: sample, at: point)
            : output.noise(modelOutput, sample: sample, at: point, thresholds: false)
        var sample = sample
        if index > 0, !disabledCorrector.contains(index - 1), let last = lastSample {
            sample = corrected(converted, lastSample: last, index: index, order: lastOrder)
        }
        state.record(converted)
        let wanted = lowerOrderFinal ? min(state.solverOrder, timesteps.count - index) : state.solverOrder
        lastOrder = min(wanted, state.lowerOrderNums + 1)
        lastSample = sample
        let next = predicted(sample: sample, index: index, order: lastOrder)
        state.advance(from: index)
        return next
    }

    /// The scalars both UniP and UniC build from a step from `s0` to `t` with earlier nodes.
    private struct Step {
        let t: SolverPoint, s0: SolverPoint
        let hPhi1: Float, bH: Float
        /// rk of each earlier node, then 1.
        let rks: [Float]
        /// b_i = h_phi_k * i! / B(h) for i = 1...order.
        let b: [Float]
    }

    private func makeStep(target: Int, base: Int, earlier: [Int], order: Int) -> Step {
        let points = state.points
        let t = points[target], s0 = points[base]
        let h = t.lambda - s0.lambda
        let rks = earlier.map { (points[$0].lambda - s0.lambda) / h } + [1]
        let hh = predictsData ? -h : h
        let hPhi1 = expm1(hh)
        let bH = usesBh1 ? hh : expm1(hh)
        var hPhiK = hPhi1 / hh - 1, factorial = 1
        var b: [Float] = []
        for i in 1...order {
            b.append(hPhiK * Float(factorial) / bH)
            factorial *= i + 1
            // 1 / factorial_i is a Python float, rounded to float32 when it meets the tensor.
            hPhiK = hPhiK / hh - Float(1 / Double(factorial))
        }
        return Step(t: t, s0: s0, hPhi1: hPhi1, bH: bH, rks: rks, b: b)
    }

    /// `sigma_t / sigma_s0 * x - alpha_t * h_phi_1 * m0` (or its noise-prediction form).
    private func base(_ step: Step, _ x: [Float], _ m0: [Float]) -> (terms: [(Float, [Float])], scale: Float) {
        let t = step.t, s0 = step.s0
        if predictsData {
            return ([(t.sigma / s0.sigma, x), (-(t.alpha * step.hPhi1), m0)], t.alpha * step.bH)
        }
        return ([(t.alpha / s0.alpha, x), (-(t.sigma * step.hPhi1), m0)], t.sigma * step.bH)
    }

    /// `multistep_uni_p_bh_update`: from the sample at `index` to the next timestep.
    private func predicted(sample: [Float], index: Int, order: Int) -> [Float] {
        let step = makeStep(target: index + 1, base: index, earlier: (1..<order).map { index - $0 }, order: order)
        let (terms, scale) = base(step, sample, state.m(0))
        let x = Latent.linear(terms)
        guard order > 1 else { return x }
        let rhos = order == 2 ? [Float(0.5)]
            : LinearSolve.solve(Self.powers(Array(step.rks.dropLast()), order - 1), Array(step.b.prefix(order - 1)))
        let residual = Self.weightedSum(rhos, differences(step, order: order))
        return Latent.combine(x, residual) { $0 - scale * $1 }
    }

    /// `multistep_uni_c_bh_update`: corrects the last prediction (now at `index`) with the model
    /// output there, redoing the step from `lastSample`.
    private func corrected(_ modelT: [Float], lastSample: [Float], index: Int, order: Int) -> [Float] {
        let m0 = state.m(0)
        let step = makeStep(target: index, base: index - 1, earlier: (1..<order).map { index - 1 - $0 }, order: order)
        let (terms, scale) = base(step, lastSample, m0)
        let x = Latent.linear(terms)
        let rhos = order == 1 ? [Float(0.5)] : LinearSolve.solve(Self.powers(step.rks, order), step.b)
        let rhoLast = rhos[rhos.count - 1]
        var residual = Latent.combine(modelT, m0) { $0 - $1 }.map { rhoLast * $0 }
        if order > 1 {
            let sum = Self.weightedSum(Array(rhos.dropLast()), differences(step, order: order))
            residual = Latent.combine(sum, residual) { $0 + $1 }
        }
        return Latent.combine(x, residual) { $0 - scale * $1 }
    }

    /// D1s: `(m_i - m0) / rk_i` for the `order - 1` earlier model outputs.
    private func differences(_ step: Step, order: Int) -> [[Float]] {
        let m0 = state.m(0)
        return (1..<order).map { i in
            let rk = step.rks[i - 1]
            return Latent.combine(state.m(i), m0) { ($0 - $1) / rk }
        }
    }

    /// R = [rks ** 0, rks ** 1, ...], `rows` rows.
    private static func powers(_ rks: [Float], _ rows: Int) -> [[Float]] {
        (0..<rows).map { power in rks.map { rk in power == 0 ? 1 : (power == 1 ? rk : rk * rk) } }
    }

    /// `einsum("k,bkc...->bc...", rhos, D1s)`.
    private static func weightedSum(_ rhos: [Float], _ differences: [[Float]]) -> [Float] {
        Latent.linear(zip(rhos, differences).map { ($0, $1) })
    }
}

/// `torch.linalg.solve` for the 2x2 and 3x3 systems of UniPC: Gaussian elimination with partial
/// pivoting, as LAPACK's sgesv does it.
enum LinearSolve {
    static func solve(_ matrix: [[Float]], _ rhs: [Float]) -> [Float] {
        var a = matrix, b = rhs
        let n = b.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) } ?? column
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Float](repeating: 0, count: n)
        for row in (0..<n).reversed() {
            var sum = b[row]
            for k in (row + 1)..<n { sum -= a[row][k] * x[k] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
