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
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public let initNoiseSigma: Float = 1

    private let algorithm: DPMSolverAlgorithm
    private let output: SolverModelOutput
    private let usesHeun: Bool
    private let finalSigmaIsZero: Bool
    private var lowerOrderFinal: Bool
    private var orders: [Int] = []
    private var state: SolverState
    /// The sample at the first step of the current group.
    private var groupSample: [Float] = []
    private var solverOrder: Int { state.solverOrder }

    public init(config: SchedulerConfig) throws {
        let noise = try NoiseSchedule(name, config: config, defaults: .init(hasZeroSnrOption: false))
        algorithm = try DPMSolverAlgorithm(name, config: config, supported: [.dpmsolverPlusPlus, .sdeDpmsolverPlusPlus, .dpmsolver])
        output = try SolverModelOutput(name, config: config)
        if !algorithm.predictsData { try config.require(name, .thresholding, config.thresholding ?? false, in: [false]) }
        let solverOrder = try SolverSchedule.solverOrder(name, config: config)
        usesHeun = try DPMSolverAlgorithm.usesHeun(name, config: config)
        lowerOrderFinal = config.lowerOrderFinal ?? false
        finalSigmaIsZero = try config.finalSigmaIsZero(name, allowsZero: algorithm.predictsData)
        let options = SolverSchedule.Options(
            sigmaSpacing: try SolverSchedule.sigmaSpacing(name, config: config),
            lastTimestep: SolverSchedule.lastTimestep(noise, lambdaMinClipped: config.lambdaMinClipped))
        state = SolverState(noise: noise, options: options, solverOrder: solverOrder)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let finalSigma: SolverSchedule.FinalSigma = finalSigmaIsZero ? .zero : .trainingMinimum
        try state.setTimesteps(name, steps: numInferenceSteps) { _ in finalSigma }
        // diffusers turns lower_order_final on for good in these cases.
        if numInferenceSteps % solverOrder != 0 || finalSigmaIsZero { lowerOrderFinal = true }
        orders = orderList(numInferenceSteps)
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
        let index = state.index(of: timestep)
        let converted = output.converted(modelOutput, sample: sample, at: state.points[index], predictsData: algorithm.predictsData)
        state.record(converted)
        let stepNoise = algorithm.isStochastic ? random.randn(sample.count) : nil
        let order = min(orders[index], state.modelOutputs.count)
        if order == 1 { groupSample = sample }
        let update = DPMSolverCoefficients(algorithm, from: state.points[index + 1 - order], to: state.points[index + 1])
        let next: [Float]
        switch order {
        case 1: next = update.update(groupSample, converted, [], noise: stepNoise)
        case 2: next = secondOrder(update, index: index, noise: stepNoise)
        default: next = thirdOrder(update, index: index, noise: stepNoise)
        }
        state.advance(from: index)
        return next
    }

    /// `singlestep_dpm_solver_second_order_update`: from the group's sample at s1.
    private func secondOrder(_ update: DPMSolverCoefficients, index: Int, noise: [Float]?) -> [Float] {
        let r0 = update.ratio(state.points[index - 1], state.points[index])
        return update.secondOrder(groupSample, d0: state.m(1), m0: state.m(0), m1: state.m(1), r0: r0, usesHeun: usesHeun, noise: noise)
    }

    /// `singlestep_dpm_solver_third_order_update`: from the group's sample at s2.
    private func thirdOrder(_ update: DPMSolverCoefficients, index: Int, noise: [Float]?) -> [Float] {
        let m0 = state.m(0), m1 = state.m(1), m2 = state.m(2), points = state.points
        let r0 = update.ratio(points[index - 2], points[index]), r1 = update.ratio(points[index - 2], points[index - 1])
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
