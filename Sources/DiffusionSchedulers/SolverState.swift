// Follows the step bookkeeping that diffusers' scheduling_dpmsolver_multistep.py writes and
// scheduling_dpmsolver_singlestep.py, scheduling_deis_multistep.py and
// scheduling_unipc_multistep.py copy: set_timesteps' reset, _init_step_index, and the
// model_outputs / lower_order_nums history.
import Foundation

/// What a DPM-Solver-family scheduler keeps between calls: the schedule it walks (each sigma
/// with its alpha and lambda), its place in it, and the last `solverOrder` converted model
/// outputs. The classes differ only in how they convert outputs and combine them.
struct SolverState {
    let noise: NoiseSchedule
    let options: SolverSchedule.Options
    let solverOrder: Int
    private(set) var timesteps: [Double] = []
    private(set) var sigmas: [Float] = []
    private(set) var points: [SolverPoint] = []
    /// The kept converted model outputs, oldest first (diffusers' `model_outputs`).
    private(set) var modelOutputs: [[Float]] = []
    /// The steps taken so far, up to `solverOrder` (diffusers' `lower_order_nums`).
    private(set) var lowerOrderNums = 0
    private var stepIndex: Int?

    init(noise: NoiseSchedule, options: SolverSchedule.Options, solverOrder: Int) {
        self.noise = noise
        self.options = options
        self.solverOrder = solverOrder
    }

    /// `set_timesteps`: the schedule of `steps` steps, its last sigma chosen by `final`, with
    /// the history cleared.
    mutating func setTimesteps(
        _ scheduler: String, steps: Int, final: (DiscreteSigmaSchedule.SigmaSpacing) -> SolverSchedule.FinalSigma
    ) throws {
        try SchedulerError.requireSteps(steps, scheduler)
        let schedule = try SolverSchedule(scheduler, steps: steps, options: options, final: final, noise: noise)
        timesteps = schedule.timesteps.map(Double.init)
        try SchedulerError.requireDistinctStart(timesteps, scheduler, steps: steps)
        sigmas = schedule.sigmas
        points = sigmas.map(SolverPoint.init)
        modelOutputs = []
        lowerOrderNums = 0
        stepIndex = nil
    }

    /// The index of the step at `timestep`: looked up on the first step (`_init_step_index`),
    /// counted from there on.
    func index(of timestep: Double) -> Int {
        stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
    }

    /// Keeps `converted`, forgetting the outputs older than the solver order uses.
    mutating func record(_ converted: [Float]) {
        modelOutputs = Array((modelOutputs + [converted]).suffix(solverOrder))
    }

    /// diffusers' m0, m1, m2: the latest kept output (`back` 0) and the ones before it.
    func m(_ back: Int) -> [Float] { modelOutputs[modelOutputs.count - 1 - back] }

    /// Ends the step at `index`.
    mutating func advance(from index: Int) {
        lowerOrderNums = min(lowerOrderNums + 1, solverOrder)
        stepIndex = index + 1
    }

    /// The order of the multistep update at `index` (DPM-Solver multistep, DEIS): lower while
    /// too few outputs are kept and, with `lower_order_final` on a schedule under 15 steps, at
    /// the last two steps; `finalIsFirstOrder` makes the last step first order anyway.
    func multistepOrder(at index: Int, lowerOrderFinal: Bool, finalIsFirstOrder: Bool = false) -> Int {
        let count = timesteps.count, shortSchedule = lowerOrderFinal && count < 15
        if solverOrder == 1 || lowerOrderNums < 1 || (index == count - 1 && (shortSchedule || finalIsFirstOrder)) {
            return 1
        }
        if solverOrder == 2 || lowerOrderNums < 2 || (index == count - 2 && shortSchedule) { return 2 }
        return 3
    }
}
