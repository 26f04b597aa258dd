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
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    private let prediction: SigmaPrediction
    private var state: DiscreteSigmaState
    private var midpointSigmas: [Float] = []
    /// The sample the first-order half started from, kept for the second half.
    private var firstSample: [Float]?

    public init(config: SchedulerConfig) throws {
        state = try DiscreteSigmaState(name, config: config, noiseDefaults: .init(betaStart: 0.00085, betaEnd: 0.012, hasZeroSnrOption: false))
        prediction = try SigmaPrediction(name, config: config, supported: [.epsilon, .vPrediction])
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let schedule = try KDPM2Schedule(name, steps: numInferenceSteps, state: state)
        let base = schedule.base
        // Each sigma's midpoint with the one before it; the first has none (diffusers gets NaN).
        let midpoints = [Float.nan] + KDPM2Schedule.logMidpoints(Array(base.dropFirst()), Array(base.dropLast()))
        midpointSigmas = KDPM2Schedule.repeatedAfterFirst(midpoints)
        state.start(
            timesteps: schedule.interleaved(midpointTimesteps: schedule.timesteps(of: Array(midpoints[1..<(midpoints.count - 1)]))[...]),
            sigmas: KDPM2Schedule.repeatedAfterFirst(base))
        firstSample = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        let index = state.index(of: timestep)
        return DiscreteSigmaSchedule.scaled(sample, sigma: firstSample == nil ? sigmas[index] : midpointSigmas[index])
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        state.advance(from: index)
        if let start = firstSample {
            let sigma = sigmas[index - 1], midpoint = midpointSigmas[index], sigmaNext = sigmas[index]
            let original = prediction.originalSample(modelOutput, sample: sample, sigma: midpoint)
            firstSample = nil
            return Latent.eulerMove(start, sample: sample, original: original, sigma: midpoint, dt: sigmaNext - sigma)
        }
        let sigma = sigmas[index], midpoint = midpointSigmas[index + 1]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        firstSample = sample
        return Latent.eulerMove(sample, sample: sample, original: original, sigma: sigma, dt: midpoint - sigma)
    }
}
