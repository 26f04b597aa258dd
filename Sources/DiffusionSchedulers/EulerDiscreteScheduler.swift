// Follows diffusers/schedulers/scheduling_euler_discrete.py.
import Foundation

/// Matches diffusers' `EulerDiscreteScheduler` (Karras et al. Algorithm 2, without churn,
/// as the pipelines call it): honours beta schedules, trained betas, prediction_type,
/// timestep_spacing, steps_offset, interpolation_type (linear, log_linear),
/// karras/exponential/beta sigmas with sigma_min/sigma_max, final_sigmas_type, timestep_type
/// (continuous timesteps 0.25 log sigma for v-prediction models) and rescale_betas_zero_snr.
public struct EulerDiscreteScheduler: Scheduler {
    public let name = "EulerDiscreteScheduler"
    public let order = 1
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    private let prediction: SigmaPrediction
    private let continuousTimesteps: Bool
    private var state: DiscreteSigmaState

    public init(config: SchedulerConfig) throws {
        let noise = try NoiseSchedule(name, config: config, defaults: .init(nudgesTerminalAlpha: true))
        var options = try DiscreteSigmaSchedule.options(name, config: config, hasSigmaBounds: true)
        options.finalSigmaIsMin = try !config.finalSigmaIsZero(name)
        let interpolation = config.interpolationType ?? "linear"
        try config.require(name, .interpolationType, interpolation, in: ["linear", "log_linear"])
        options.logLinear = interpolation == "log_linear"
        let timestepType = config.timestepType ?? "discrete"
        try config.require(name, .timestepType, timestepType, in: ["discrete", "continuous"])
        state = DiscreteSigmaState(noise: noise, options: options)
        prediction = try SigmaPrediction(name, config: config)
        // diffusers uses continuous timesteps only for v-prediction and ignores the option otherwise.
        continuousTimesteps = timestepType == "continuous" && prediction == .vPrediction
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        let schedule = DiscreteSigmaSchedule(steps: numInferenceSteps, options: state.options, noise: state.noise)
        // `0.25 * sigma.log()` of each float32 sigma but the last, in float32.
        let steps = continuousTimesteps
            ? schedule.sigmas.dropLast().map { Double(0.25 * log($0)) } : schedule.timesteps
        try SchedulerError.requireDistinctStart(steps, name, steps: numInferenceSteps)
        state.start(timesteps: steps, sigmas: schedule.sigmas)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        state.scaled(sample, timestep: timestep)
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let sigma = sigmas[index]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        state.advance(from: index)
        return Latent.eulerMove(sample, sample: sample, original: original, sigma: sigma, dt: sigmas[index + 1] - sigma)
    }
}
