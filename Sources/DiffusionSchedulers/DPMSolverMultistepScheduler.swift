// Follows diffusers/schedulers/scheduling_dpmsolver_multistep.py.
import Foundation

/// Matches diffusers' `DPMSolverMultistepScheduler` (DPM-Solver++ and DPM-Solver, "DPM++ 2M"
/// and its SDE variant): multistep updates of up to third order from the last converted model
/// outputs; the SDE variants draw fresh noise from the sample's random source at every step.
/// Honours beta schedules, trained betas, prediction_type, algorithm_type, solver_order,
/// solver_type, lower_order_final, euler_at_final, final_sigmas_type, karras/exponential/beta
/// sigmas, Lu lambdas, lambda_min_clipped, thresholding, timestep_spacing, steps_offset and
/// rescale_betas_zero_snr. Refused: flow sigmas, dynamic shifting, learned variances, and
/// the combinations diffusers rejects or cannot run (final_sigmas_type "zero" without `++`,
/// third order with sde-dpmsolver).
public struct DPMSolverMultistepScheduler: Scheduler {
    public let name = "DPMSolverMultistepScheduler"
    public let order = 1
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public let initNoiseSigma: Float = 1

    private let algorithm: DPMSolverAlgorithm
    private let output: SolverModelOutput
    private let usesHeun: Bool
    private let lowerOrderFinal: Bool
    private let eulerAtFinal: Bool
    private let finalSigmaIsZero: Bool
    private var state: SolverState

    public init(config: SchedulerConfig) throws {
        let noise = try NoiseSchedule(name, config: config, defaults: .init(nudgesTerminalAlpha: true))
        algorithm = try DPMSolverAlgorithm(name, config: config, supported: [.dpmsolverPlusPlus, .dpmsolver, .sdeDpmsolverPlusPlus, .sdeDpmsolver])
        output = try SolverModelOutput(name, config: config)
        let solverOrder = try SolverSchedule.solverOrder(name, config: config)
        usesHeun = try DPMSolverAlgorithm.usesHeun(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? true
        eulerAtFinal = config.eulerAtFinal ?? false
        finalSigmaIsZero = try config.finalSigmaIsZero(name, allowsZero: algorithm.predictsData)
        if algorithm == .sdeDpmsolver { try config.require(name, .solverOrder, solverOrder, in: [1, 2]) }
        var options = try SolverSchedule.Options(name, config: config, hasLuLambdas: true)
        options.roundsKarrasTimesteps = (config.betaSchedule ?? "linear") != "squaredcos_cap_v2"
        options.lastTimestep = SolverSchedule.lastTimestep(noise, lambdaMinClipped: config.lambdaMinClipped)
        state = SolverState(noise: noise, options: options, solverOrder: solverOrder)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let finalSigma: SolverSchedule.FinalSigma = finalSigmaIsZero ? .zero : .trainingMinimum
        try state.setTimesteps(name, steps: numInferenceSteps) { _ in finalSigma }
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let converted = output.converted(modelOutput, sample: sample, at: state.points[index], predictsData: algorithm.predictsData)
        state.record(converted)
        let stepNoise = algorithm.isStochastic ? random.randn(sample.count) : nil
        let update = DPMSolverCoefficients(algorithm, from: state.points[index], to: state.points[index + 1])
        let next: [Float]
        switch state.multistepOrder(at: index, lowerOrderFinal: lowerOrderFinal, finalIsFirstOrder: eulerAtFinal || finalSigmaIsZero) {
        case 1: next = update.update(sample, converted, [], noise: stepNoise)
        case 2: next = secondOrder(update, sample: sample, index: index, noise: stepNoise)
        default: next = thirdOrder(update, sample: sample, index: index, noise: stepNoise)
        }
        state.advance(from: index)
        return next
    }

    /// `multistep_dpm_solver_second_order_update`.
    private func secondOrder(_ update: DPMSolverCoefficients, sample: [Float], index: Int, noise: [Float]?) -> [Float] {
        let r0 = update.ratio(state.points[index - 1], state.points[index])
        return update.secondOrder(sample, d0: state.m(0), m0: state.m(0), m1: state.m(1), r0: r0, usesHeun: usesHeun, noise: noise)
    }

    /// `multistep_dpm_solver_third_order_update`.
    private func thirdOrder(_ update: DPMSolverCoefficients, sample: [Float], index: Int, noise: [Float]?) -> [Float] {
        let m0 = state.m(0), m1 = state.m(1), m2 = state.m(2), points = state.points
        let r0 = update.ratio(points[index - 1], points[index]), r1 = update.ratio(points[index - 2], points[index - 1])
        let scale0 = 1 / r0, scale1 = 1 / r1
        let d10 = Latent.combine(m0, m1) { scale0 * ($0 - $1) }
        let d11 = Latent.combine(m1, m2) { scale1 * ($0 - $1) }
        let weight = r0 / (r0 + r1), inverse = 1 / (r0 + r1)
        let d1 = Latent.combine(d10, d11) { $0 + weight * ($0 - $1) }
        let d2 = Latent.combine(d10, d11) { inverse * ($0 - $1) }
        return update.update(sample, m0, [(update.heun, d1), (update.second, d2)], noise: noise)
    }
}
