// Follows diffusers/schedulers/scheduling_dpmsolver_singlestep.py.
import Foundation

/// Matches diffusers' `DPMSolverSinglestepScheduler`: the steps are grouped (orders 1, 2, 3,
/// 1, 2, 3, ... for third order) and each group's higher-order update starts again from the
/// sample at the group's first step; sde-dpmsolver++ draws fresh noise from the sample's random
/// source at every step. Honours beta schedules, trained betas, prediction_type,
/// algorithm_type (dpmsolver++, sde-dpmsolver++, dpmsolver), solver_order, solver_type,
/// lower_order_final (forced on, as diffusers forces it, when the step count is not a multiple
/// of the order or the final sigma is zero), final_sigmas_type, karras/exponential/beta sigmas,
/// lambda_min_clipped and thresholding. The class always spaces timesteps "linspace" and has
/// no steps_offset or rescale_betas_zero_snr. Refused: flow sigmas, dynamic shifting, learned variances,
/// dpmsolver with final_sigmas_type "zero" (diffusers rejects it) or with thresholding
/// (diffusers' code for it cannot run).
public struct DPMSolverSinglestepScheduler: Scheduler {
    public let name = "DPMSolverSinglestepScheduler"
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
    private let finalSigmaIsZero: Bool
    private var lowerOrderFinal: Bool
    private var orders: [Int] = []
    private var points: [SolverPoint] = []
    private var modelOutputs: [[Float]] = []
    /// The sample at the first step of the current group.
    private var groupSample: [Float] = []
    private var stepIndex: Int?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(hasZeroSnrOption: false))
        algorithm = try DPMSolverAlgorithm(name, config: config, supported: [.dpmsolverPlusPlus, .sdeDpmsolverPlusPlus, .dpmsolver])
        output = try SolverModelOutput(name, config: config)
        if !algorithm.predictsData { try config.require(name, .thresholding, config.thresholding ?? false, in: [false]) }
        solverOrder = try SolverSchedule.solverOrder(name, config: config)
        usesHeun = try DPMSolverAlgorithm.usesHeun(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? false
        let finalSigmas = config.finalSigmasType ?? "zero"
        try config.require(name, .finalSigmasType, finalSigmas, in: algorithm.predictsData ? ["zero", "sigma_min"] : ["sigma_min"])
        finalSigmaIsZero = finalSigmas == "zero"
        options = SolverSchedule.Options(
            sigmaSpacing: try SolverSchedule.sigmaSpacing(name, config: config),
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
        // diffusers turns lower_order_final on for good in these cases.
        if numInferenceSteps % solverOrder != 0 || finalSigmaIsZero { lowerOrderFinal = true }
        orders = orderList(numInferenceSteps)
        modelOutputs = []
        stepIndex = nil
    }

    /// `get_order_list`: the order of each step.
    private func orderList(_ steps: Int) -> [Int] {
        let cycle = Array(1...solverOrder)
        var list: [Int]
        if !lowerOrderFinal || solverOrder == 1 {
            list = Array(repeating: cycle, count: steps / solverOrder).flatMap { $0 }
        } else {
            let remainder = steps % solverOrder
            let fullCycles = remainder == 0 ? steps / solverOrder - 1 : steps / solverOrder
            let tail = remainder == 0 ? (solverOrder == 3 ? [1, 2, 1] : [1, 1]) : Array(1...remainder)
            list = Array(repeating: cycle, count: fullCycles).flatMap { $0 } + tail
        }
        if finalSigmaIsZero { list[list.count - 1] = 1 }
        return list
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        let converted = algorithm.predictsData
            ? output.data(modelOutput, sample: sample, at: points[index])
            : output.noise(modelOutput, sample: sample, at: points[index])
        modelOutputs = Array((modelOutputs + [converted]).suffix(solverOrder))
        let stepNoise = algorithm.isStochastic ? random.randn(sample.count) : nil
        let order = min(orders[index], modelOutputs.count)
        if order == 1 { groupSample = sample }
        let update = DPMSolverCoefficients(algorithm, from: points[index + 1 - order], to: points[index + 1])
        let next: [Float]
        switch order {
        case 1: next = update.update(groupSample, converted, [], noise: stepNoise)
        case 2: next = secondOrder(update, index: index, noise: stepNoise)
        default: next = thirdOrder(update, index: index, noise: stepNoise)
        }
        stepIndex = index + 1
        return next
    }

    /// `singlestep_dpm_solver_second_order_update`: from the group's sample at s1.
    private func secondOrder(_ update: DPMSolverCoefficients, index: Int, noise: [Float]?) -> [Float] {
        let n = modelOutputs.count
        let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2]
        let r0 = (points[index].lambda - points[index - 1].lambda) / update.h
        let scale = 1 / r0
        let d1 = Latent.combine(m0, m1) { scale * ($0 - $1) }
        return update.update(groupSample, m1, [(usesHeun ? update.heun : update.midpoint, d1)], noise: noise)
    }

    /// `singlestep_dpm_solver_third_order_update`: from the group's sample at s2.
    private func thirdOrder(_ update: DPMSolverCoefficients, index: Int, noise: [Float]?) -> [Float] {
        let n = modelOutputs.count
        let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2], m2 = modelOutputs[n - 3]
        let base = points[index - 2].lambda
        let r0 = (points[index].lambda - base) / update.h, r1 = (points[index - 1].lambda - base) / update.h
        let scale0 = 1 / r0, scale1 = 1 / r1
        let d10 = Latent.combine(m1, m2) { scale1 * ($0 - $1) }
        let d11 = Latent.combine(m0, m2) { scale0 * ($0 - $1) }
        guard usesHeun else { return update.update(groupSample, m2, [(update.heun, d11)], noise: noise) }
        let spread = r0 - r1
        let d1 = Latent.combine(d10, d11) { (r0 * $0 - r1 * $1) / spread }
        let d2 = Latent.combine(d11, d10) { 2 * ($0 - $1) / spread }
        return update.update(groupSample, m2, [(update.heun, d1), (update.second, d2)], noise: noise)
    }
}
