// Follows diffusers/schedulers/scheduling_k_dpm_2_ancestral_discrete.py.
import Foundation

/// Matches diffusers' `KDPM2AncestralDiscreteScheduler`: DPM-Solver-2 towards sigma_down, the
/// midpoint taken between sigma and sigma_down, then fresh noise of scale sigma_up drawn from
/// the sample's random source after each second call. Honours beta schedules, trained betas,
/// prediction_type (epsilon, v_prediction; diffusers does not implement sample),
/// timestep_spacing, steps_offset and karras/exponential/beta sigmas.
public struct KDPM2AncestralDiscreteScheduler: Scheduler {
    public let name = "KDPM2AncestralDiscreteScheduler"
    public let order = 2
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    private let prediction: SigmaPrediction
    private var state: DiscreteSigmaState
    private var midpointSigmas: [Float] = []
    private var sigmasUp: [Float] = []
    private var sigmasDown: [Float] = []
    /// The sample the first-order half started from, kept for the second half.
    private var firstSample: [Float]?

    public init(config: SchedulerConfig) throws {
        state = try DiscreteSigmaState(name, config: config, noiseDefaults: .init(betaStart: 0.00085, betaEnd: 0.012, hasZeroSnrOption: false))
        prediction = try SigmaPrediction(name, config: config, supported: [.epsilon, .vPrediction])
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let schedule = try KDPM2Schedule(name, steps: numInferenceSteps, state: state)
        let base = schedule.base
        let next = Array(base.dropFirst()) + [0]
        let up = zip(base, next).map { s, n in (n * n * (s * s - n * n) / (s * s)).squareRoot() }
        var down = zip(next, up).map { n, u in (n * n - u * u).squareRoot() }
        down[down.count - 1] = 0
        var midpoints = KDPM2Schedule.logMidpoints(base, down)
        midpoints.replaceSubrange((midpoints.count - 2)..., with: [0, 0])
        midpointSigmas = KDPM2Schedule.repeatedAfterFirst(midpoints)
        sigmasUp = KDPM2Schedule.repeatedAfterFirst(up)
        sigmasDown = KDPM2Schedule.repeatedAfterFirst(down)
        state.start(
            timesteps: schedule.interleaved(midpointTimesteps: schedule.timesteps(of: Array(midpoints.dropLast(2)))[...]),
            sigmas: KDPM2Schedule.repeatedAfterFirst(base))
        firstSample = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        let index = state.index(of: timestep)
        return DiscreteSigmaSchedule.scaled(sample, sigma: firstSample == nil ? sigmas[index] : midpointSigmas[index - 1])
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        state.advance(from: index)
        if let start = firstSample {
            let sigma = sigmas[index - 1], midpoint = midpointSigmas[index - 1]
            let sigmaUp = sigmasUp[index - 1], dt = sigmasDown[index - 1] - sigma
            let original = prediction.originalSample(modelOutput, sample: sample, sigma: midpoint)
            firstSample = nil
            let moved = Latent.eulerMove(start, sample: sample, original: original, sigma: midpoint, dt: dt)
            return Latent.combine(moved, random.randn(sample.count)) { $0 + $1 * sigmaUp }
        }
        let sigma = sigmas[index], midpoint = midpointSigmas[index]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        firstSample = sample
        return Latent.eulerMove(sample, sample: sample, original: original, sigma: sigma, dt: midpoint - sigma)
    }
}
