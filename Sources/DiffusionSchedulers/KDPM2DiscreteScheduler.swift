// Follows diffusers/schedulers/scheduling_k_dpm_2_discrete.py.
import Foundation

/// Matches diffusers' `KDPM2DiscreteScheduler` (DPM-Solver-2, Karras et al. Algorithm 2 with
/// a midpoint): every interior timestep is preceded by its midpoint's, the first call an Euler
/// move to the midpoint sigma and the second the full step using the midpoint's derivative.
/// Honours beta schedules, trained betas, prediction_type (epsilon, v_prediction; diffusers does
/// not implement sample), timestep_spacing, steps_offset and karras/exponential/beta sigmas.
public struct KDPM2DiscreteScheduler: Scheduler {
    public let name = "KDPM2DiscreteScheduler"
    public let order = 2
    public private(set) var timesteps: [Double] = []
    public private(set) var sigmas: [Float] = []
    public var initNoiseSigma: Float { DiscreteSigmaSchedule.initNoiseSigma(sigmas, timestepSpacing: options.timestepSpacing) }

    private let noise: NoiseSchedule
    private let options: DiscreteSigmaSchedule.Options
    private let prediction: SigmaPrediction
    private var midpointSigmas: [Float] = []
    private var stepIndex: Int?
    /// The sample the first-order half started from, kept for the second half.
    private var firstSample: [Float]?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(betaStart: 0.00085, betaEnd: 0.012, hasZeroSnrOption: false))
        options = try DiscreteSigmaSchedule.options(name, config: config)
        prediction = try SigmaPrediction(name, config: config, supported: [.epsilon, .vPrediction])
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        let schedule = KDPM2Schedule(steps: numInferenceSteps, options: options, noise: noise)
        try SchedulerError.requireDistinctStart(schedule.baseTimesteps, name, steps: numInferenceSteps)
        let base = schedule.base
        // Each sigma's midpoint with the one before it; the first has none (diffusers gets NaN).
        let midpoints = [Float.nan] + KDPM2Schedule.logMidpoints(Array(base.dropFirst()), Array(base.dropLast()))
        sigmas = KDPM2Schedule.repeatedAfterFirst(base)
        midpointSigmas = KDPM2Schedule.repeatedAfterFirst(midpoints)
        timesteps = schedule.interleaved(midpointTimesteps: schedule.timesteps(of: Array(midpoints[1..<(midpoints.count - 1)]))[...])
        stepIndex = nil
        firstSample = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        stepIndex = index
        return DiscreteSigmaSchedule.scaled(sample, sigma: firstSample == nil ? sigmas[index] : midpointSigmas[index])
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        stepIndex = index + 1
        if let start = firstSample {
            let sigma = sigmas[index - 1], midpoint = midpointSigmas[index], sigmaNext = sigmas[index]
            let original = prediction.originalSample(modelOutput, sample: sample, sigma: midpoint)
            let dt = sigmaNext - sigma
            firstSample = nil
            return Latent.combine(start, sample, original) { x, current, x0 in x + (current - x0) / midpoint * dt }
        }
        let sigma = sigmas[index], midpoint = midpointSigmas[index + 1]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        let dt = midpoint - sigma
        firstSample = sample
        return Latent.combine(sample, original) { x, x0 in x + (x - x0) / sigma * dt }
    }
}
