// Follows diffusers/schedulers/scheduling_euler_discrete.py.
import Foundation

/// Matches diffusers' `EulerDiscreteScheduler` (Karras et al. Algorithm 2, without churn,
/// as the pipelines call it): honours beta schedules, trained betas, prediction_type,
/// timestep_spacing, steps_offset, karras/exponential sigmas with sigma_min/sigma_max,
/// final_sigmas_type and rescale_betas_zero_snr.
public struct EulerDiscreteScheduler: Scheduler {
    public let name = "EulerDiscreteScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public private(set) var sigmas: [Float] = []
    public var initNoiseSigma: Float { DiscreteSigmaSchedule.initNoiseSigma(sigmas, timestepSpacing: options.timestepSpacing) }

    private let noise: NoiseSchedule
    private let options: DiscreteSigmaSchedule.Options
    private let prediction: SigmaPrediction
    private var stepIndex: Int?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(nudgesTerminalAlpha: true))
        var options = try DiscreteSigmaSchedule.options(name, config: config, hasSigmaBounds: true)
        let finalSigmas = config.finalSigmasType ?? "zero"
        try config.require(name, .finalSigmasType, finalSigmas, in: ["zero", "sigma_min"])
        options.finalSigmaIsMin = finalSigmas == "sigma_min"
        try config.require(name, .interpolationType, config.interpolationType ?? "linear", in: ["linear"])
        try config.require(name, .timestepType, config.timestepType ?? "discrete", in: ["discrete"])
        self.options = options
        prediction = try SigmaPrediction(name, config: config)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        let schedule = DiscreteSigmaSchedule(steps: numInferenceSteps, options: options, noise: noise)
        try SchedulerError.requireDistinctStart(schedule.timesteps, name, steps: numInferenceSteps)
        timesteps = schedule.timesteps
        sigmas = schedule.sigmas
        stepIndex = nil
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        stepIndex = index
        return DiscreteSigmaSchedule.scaled(sample, sigma: sigmas[index])
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        let sigma = sigmas[index]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        let dt = sigmas[index + 1] - sigma
        stepIndex = index + 1
        return Latent.combine(sample, original) { x, x0 in x + (x - x0) / sigma * dt }
    }
}
