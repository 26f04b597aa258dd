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
    public private(set) var timesteps: [Double] = []
    public private(set) var sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let options: SolverSchedule.Options
    private let algorithm: DPMSolverAlgorithm
    private let output: SolverModelOutput
    private let solverOrder: Int
    private let usesHeun: Bool
    private let lowerOrderFinal: Bool
    private let eulerAtFinal: Bool
    private let finalSigmaIsZero: Bool
    private var points: [SolverPoint] = []
    private var modelOutputs: [[Float]] = []
    private var lowerOrderNums = 0
    private var stepIndex: Int?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(nudgesTerminalAlpha: true))
        algorithm = try DPMSolverAlgorithm(name, config: config, supported: [.dpmsolverPlusPlus, .dpmsolver, .sdeDpmsolverPlusPlus, .sdeDpmsolver])
        output = try SolverModelOutput(name, config: config)
        solverOrder = try SolverSchedule.solverOrder(name, config: config)
        usesHeun = try DPMSolverAlgorithm.usesHeun(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? true
        eulerAtFinal = config.eulerAtFinal ?? false
        let finalSigmas = config.finalSigmasType ?? "zero"
        try config.require(name, .finalSigmasType, finalSigmas, in: algorithm.predictsData ? ["zero", "sigma_min"] : ["sigma_min"])
        finalSigmaIsZero = finalSigmas == "zero"
        if algorithm == .sdeDpmsolver { try config.require(name, .solverOrder, solverOrder, in: [1, 2]) }
        let spacing = config.timestepSpacing ?? "linspace"
        try config.require(name, .timestepSpacing, spacing, in: ["linspace", "leading", "trailing"])
        let sigmaSpacing = try SolverSchedule.sigmaSpacing(name, config: config, hasLuLambdas: true)
        options = SolverSchedule.Options(
            timestepSpacing: spacing, stepsOffset: config.stepsOffset ?? 0, sigmaSpacing: sigmaSpacing,
            roundsKarrasTimesteps: (config.betaSchedule ?? "linear") != "squaredcos_cap_v2",
            lastTimestep: SolverSchedule.lastTimestep(noise, lambdaMinClipped: config.lambdaMinClipped))
    }


    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        let finalSigma: SolverSchedule.FinalSigma = finalSigmaIsZero ? .zero : .trainingMinimum
        let schedule = SolverSchedule(steps: numInferenceSteps, options: options, final: { _ in finalSigma }, noise: noise)
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
        let finalIsFirstOrder = index == count - 1 && (eulerAtFinal || shortSchedule || finalSigmaIsZero)
        let secondToLastIsSecondOrder = index == count - 2 && shortSchedule
        let converted = algorithm.predictsData
            ? output.data(modelOutput, sample: sample, at: points[index])
            : output.noise(modelOutput, sample: sample, at: points[index])
        modelOutputs = Array((modelOutputs + [converted]).suffix(solverOrder))
        let stepNoise = algorithm.isStochastic ? random.randn(sample.count) : nil
        let update = DPMSolverCoefficients(algorithm, from: points[index], to: points[index + 1])
        let next: [Float]
        if solverOrder == 1 || lowerOrderNums < 1 || finalIsFirstOrder {
            next = update.update(sample, converted, [], noise: stepNoise)
        } else if solverOrder == 2 || lowerOrderNums < 2 || secondToLastIsSecondOrder {
            next = secondOrder(update, sample: sample, index: index, noise: stepNoise)
        } else {
            next = thirdOrder(update, sample: sample, index: index, noise: stepNoise)
        }
        lowerOrderNums = min(lowerOrderNums + 1, solverOrder)
        stepIndex = index + 1
        return next
    }

    /// `multistep_dpm_solver_second_order_update`.
    private func secondOrder(_ update: DPMSolverCoefficients, sample: [Float], index: Int, noise: [Float]?) -> [Float] {
        let m0 = modelOutputs[modelOutputs.count - 1], m1 = modelOutputs[modelOutputs.count - 2]
        let r0 = (points[index].lambda - points[index - 1].lambda) / update.h
        let scale = 1 / r0
        let d1 = Latent.combine(m0, m1) { scale * ($0 - $1) }
        return update.update(sample, m0, [(usesHeun ? update.heun : update.midpoint, d1)], noise: noise)
    }

    /// `multistep_dpm_solver_third_order_update`.
    private func thirdOrder(_ update: DPMSolverCoefficients, sample: [Float], index: Int, noise: [Float]?) -> [Float] {
        let n = modelOutputs.count
        let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2], m2 = modelOutputs[n - 3]
        let r0 = (points[index].lambda - points[index - 1].lambda) / update.h
        let r1 = (points[index - 1].lambda - points[index - 2].lambda) / update.h
        let scale0 = 1 / r0, scale1 = 1 / r1
        let d10 = Latent.combine(m0, m1) { scale0 * ($0 - $1) }
        let d11 = Latent.combine(m1, m2) { scale1 * ($0 - $1) }
        let weight = r0 / (r0 + r1), inverse = 1 / (r0 + r1)
        let d1 = Latent.combine(d10, d11) { $0 + weight * ($0 - $1) }
        let d2 = Latent.combine(d10, d11) { inverse * ($0 - $1) }
        return update.update(sample, m0, [(update.heun, d1), (update.second, d2)], noise: noise)
    }
}
