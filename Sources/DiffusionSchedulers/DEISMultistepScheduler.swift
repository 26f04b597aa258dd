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
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public let initNoiseSigma: Float = 1

    private let output: SolverModelOutput
    private let lowerOrderFinal: Bool
    private var state: SolverState

    public init(config: SchedulerConfig) throws {
        let noise = try NoiseSchedule(name, config: config, defaults: .init(hasZeroSnrOption: false))
        let algorithm = config.algorithmType ?? "deis"
        try config.require(name, .algorithmType, algorithm, in: ["deis", "dpmsolver", "dpmsolver++"])
        let solver = config.solverType ?? "logrho"
        try config.require(name, .solverType, solver, in: ["logrho", "midpoint", "heun", "bh1", "bh2"])
        output = try SolverModelOutput(name, config: config)
        let solverOrder = try SolverSchedule.solverOrder(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? true
        state = SolverState(noise: noise, options: try SolverSchedule.Options(name, config: config), solverOrder: solverOrder)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        // Converted sigmas end on a repeat of their last value, interpolated ones on sigma_min.
        try state.setTimesteps(name, steps: numInferenceSteps) { $0 == .interpolated ? .trainingMinimum : .repeatLast }
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let point = state.points[index]
        // DEIS takes x0 (thresholded if asked) back to a noise prediction.
        let original = output.data(modelOutput, sample: sample, at: point)
        let converted = Latent.combine(sample, original) { ($0 - point.alpha * $1) / point.sigma }
        state.record(converted)
        let order = state.multistepOrder(at: index, lowerOrderFinal: lowerOrderFinal)
        let next = order == 1
            ? firstOrder(converted, sample: sample, index: index) : higherOrder(sample: sample, index: index, order: order)
        state.advance(from: index)
        return next
    }

    /// `deis_first_order_update`: the DDIM step.
    private func firstOrder(_ output: [Float], sample: [Float], index: Int) -> [Float] {
        let s = state.points[index], t = state.points[index + 1]
        let h = t.lambda - s.lambda
        return Latent.linear([(t.alpha / s.alpha, sample), (-(t.sigma * (exp(h) - 1)), output)])
    }

    /// `multistep_deis_second_order_update` and `multistep_deis_third_order_update`:
    /// `alpha_t * (sample / alpha_s0 + sum of coef_k * m_k)`, the coefficients being integrals of
    /// the Lagrange basis over log rho.
    private func higherOrder(sample: [Float], index: Int, order: Int) -> [Float] {
        let points = state.points
        let t = points[index + 1], s0 = points[index]
        let rhos = (0..<order).map { points[index - $0].sigma / points[index - $0].alpha }
        let rhoT = t.sigma / t.alpha
        let coefficients = (0..<order).map { k -> Float in
            // Node k first, then the other nodes in diffusers' rotation order.
            let others = (1..<order).map { rhos[(k + $0) % order] }
            return Self.basisIntegral(rhoT, rhos[k], others) - Self.basisIntegral(rhos[0], rhos[k], others)
        }
        let outputs = (0..<order).map(state.m)
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
