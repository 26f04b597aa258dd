// Follows diffusers/schedulers/scheduling_deis_multistep.py.
import Foundation

/// Matches diffusers' `DEISMultistepScheduler` (log-rho DEIS): multistep updates of up to third
/// order on the noise predictions, integrated exactly in rho = sigma / alpha. Honours beta
/// schedules, trained betas, prediction_type, solver_order, lower_order_final,
/// karras/exponential/beta sigmas, thresholding, timestep_spacing and steps_offset; diffusers maps
/// the DPM-Solver algorithm and solver types to "deis"/"logrho", and so does this. Refused: flow
/// sigmas and dynamic shifting. (The class has no final_sigmas_type or rescale_betas_zero_snr.)
public struct DEISMultistepScheduler: Scheduler {
    public let name = "DEISMultistepScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public private(set) var sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let options: SolverSchedule.Options
    private let output: SolverModelOutput
    private let solverOrder: Int
    private let lowerOrderFinal: Bool
    private var points: [SolverPoint] = []
    private var modelOutputs: [[Float]] = []
    private var lowerOrderNums = 0
    private var stepIndex: Int?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(hasZeroSnrOption: false))
        let algorithm = config.algorithmType ?? "deis"
        try config.require(name, .algorithmType, algorithm, in: ["deis", "dpmsolver", "dpmsolver++"])
        let solver = config.solverType ?? "logrho"
        try config.require(name, .solverType, solver, in: ["logrho", "midpoint", "heun", "bh1", "bh2"])
        output = try SolverModelOutput(name, config: config)
        solverOrder = try SolverSchedule.solverOrder(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? true
        let spacing = config.timestepSpacing ?? "linspace"
        try config.require(name, .timestepSpacing, spacing, in: ["linspace", "leading", "trailing"])
        options = SolverSchedule.Options(
            timestepSpacing: spacing, stepsOffset: config.stepsOffset ?? 0,
            sigmaSpacing: try SolverSchedule.sigmaSpacing(name, config: config))
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        // Converted sigmas end on a repeat of their last value, interpolated ones on sigma_min.
        let schedule = SolverSchedule(
            steps: numInferenceSteps, options: options,
            final: { $0 == .interpolated ? .trainingMinimum : .repeatLast }, noise: noise)
        timesteps = schedule.timesteps.map(Double.init)
        try SchedulerError.requireDistinctStart(timesteps, name, steps: numInferenceSteps)
        sigmas = schedule.sigmas
        points = sigmas.map(SolverPoint.init)
        modelOutputs = []
        lowerOrderNums = 0
        stepIndex = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        let count = timesteps.count, shortSchedule = lowerOrderFinal && count < 15
        let point = points[index]
        // DEIS takes x0 (thresholded if asked) back to a noise prediction.
        let original = output.data(modelOutput, sample: sample, at: point)
        let converted = Latent.combine(sample, original) { ($0 - point.alpha * $1) / point.sigma }
        modelOutputs = Array((modelOutputs + [converted]).suffix(solverOrder))
        let next: [Float]
        if solverOrder == 1 || lowerOrderNums < 1 || (index == count - 1 && shortSchedule) {
            next = firstOrder(converted, sample: sample, index: index)
        } else if solverOrder == 2 || lowerOrderNums < 2 || (index == count - 2 && shortSchedule) {
            next = higherOrder(sample: sample, index: index, order: 2)
        } else {
            next = higherOrder(sample: sample, index: index, order: 3)
        }
        lowerOrderNums = min(lowerOrderNums + 1, solverOrder)
        stepIndex = index + 1
        return next
    }

    /// `deis_first_order_update`: the DDIM step.
    private func firstOrder(_ output: [Float], sample: [Float], index: Int) -> [Float] {
        let s = points[index], t = points[index + 1]
        let h = t.lambda - s.lambda
        return Latent.linear([(t.alpha / s.alpha, sample), (-(t.sigma * (exp(h) - 1)), output)])
    }

    /// `multistep_deis_second_order_update` and `multistep_deis_third_order_update`:
    /// `alpha_t * (sample / alpha_s0 + sum of coef_k * m_k)`, the coefficients being integrals of
    /// the Lagrange basis over log rho.
    private func higherOrder(sample: [Float], index: Int, order: Int) -> [Float] {
        let t = points[index + 1], s0 = points[index]
        let rhos = (0..<order).map { points[index - $0].sigma / points[index - $0].alpha }
        let rhoT = t.sigma / t.alpha
        let coefficients = (0..<order).map { k -> Float in
            // Node k first, then the other nodes in diffusers' rotation order.
            let others = (1..<order).map { rhos[(k + $0) % order] }
            return Self.basisIntegral(rhoT, rhos[k], others) - Self.basisIntegral(rhos[0], rhos[k], others)
        }
        let outputs = (0..<order).map { modelOutputs[modelOutputs.count - 1 - $0] }
        let alphaS0 = s0.alpha, alphaT = t.alpha
        var inner = sample.map { $0 / alphaS0 }
        for (c, m) in zip(coefficients, outputs) {
            for i in inner.indices { inner[i] += c * m[i] }
        }
        return inner.map { alphaT * $0 }
    }

    /// diffusers' `ind_fn`: the antiderivative at `t` of node `b`'s Lagrange basis polynomial in
    /// log rho, given the other nodes. The coefficients are differences of nearly equal values,
    /// so the logs are numpy's float32 ones, bit for bit.
    private static func basisIntegral(_ t: Float, _ b: Float, _ others: [Float]) -> Float {
        let logT = NumpyFloat.log(t), logB = NumpyFloat.log(b), logC = NumpyFloat.log(others[0])
        if others.count == 1 {
            return t * (-logC + logT - 1) / (logB - logC)
        }
        let logD = NumpyFloat.log(others[1])
        let numerator = t * (logC * (logD - logT + 1) - logD * logT + logD + logT * logT - 2 * logT + 2)
        return numerator / ((logB - logC) * (logB - logD))
    }
}
