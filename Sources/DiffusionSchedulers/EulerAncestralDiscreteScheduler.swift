// Follows diffusers/schedulers/scheduling_euler_ancestral_discrete.py.
import Foundation

/// Matches diffusers' `EulerAncestralDiscreteScheduler` ("Euler a"): an Euler step down to
/// sigma_down, then fresh noise of scale sigma_up drawn from the sample's random source.
/// Honours beta schedules, trained betas, prediction_type (epsilon, v_prediction; diffusers
/// does not implement sample), timestep_spacing, steps_offset and rescale_betas_zero_snr.
public struct EulerAncestralDiscreteScheduler: Scheduler {
    public let name = "EulerAncestralDiscreteScheduler"
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
        var plain = config
        // This class has no sigma-spacing options; from_config drops them.
        plain.useKarrasSigmas = nil
        plain.useExponentialSigmas = nil
        plain.useBetaSigmas = nil
        options = try DiscreteSigmaSchedule.options(name, config: plain)
        prediction = try SigmaPrediction(name, config: config, supported: [.epsilon, .vPrediction])
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
        let sigma = sigmas[index], sigmaTo = sigmas[index + 1]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        let sigmaUp = (sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let dt = sigmaDown - sigma
        let denoised = Latent.combine(sample, original) { x, x0 in x + (x - x0) / sigma * dt }
        stepIndex = index + 1
        return Latent.combine(denoised, random.randn(sample.count)) { x, n in x + n * sigmaUp }
    }
}
