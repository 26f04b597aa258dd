// Follows diffusers/schedulers/scheduling_euler_ancestral_discrete.py.
import Foundation

/// Matches diffusers' `EulerAncestralDiscreteScheduler` ("Euler a"): an Euler step down to
/// sigma_down, then fresh noise of scale sigma_up drawn from the sample's random source.
/// Honours beta schedules, trained betas, prediction_type (epsilon, v_prediction; diffusers
/// does not implement sample), timestep_spacing, steps_offset and rescale_betas_zero_snr.
public struct EulerAncestralDiscreteScheduler: Scheduler {
    public let name = "EulerAncestralDiscreteScheduler"
    public let order = 1
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    private let prediction: SigmaPrediction
    private var state: DiscreteSigmaState

    public init(config: SchedulerConfig) throws {
        var plain = config
        // This class has no sigma-spacing options; from_config drops them.
        plain.useKarrasSigmas = nil
        plain.useExponentialSigmas = nil
        plain.useBetaSigmas = nil
        state = try DiscreteSigmaState(name, config: plain, noiseDefaults: .init(nudgesTerminalAlpha: true))
        prediction = try SigmaPrediction(name, config: config, supported: [.epsilon, .vPrediction])
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let schedule = try state.schedule(name, steps: numInferenceSteps)
        state.start(timesteps: schedule.timesteps, sigmas: schedule.sigmas)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        state.scaled(sample, timestep: timestep)
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        let sigma = sigmas[index], sigmaTo = sigmas[index + 1]
        let original = prediction.originalSample(modelOutput, sample: sample, sigma: sigma)
        let sigmaUp = (sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let denoised = Latent.eulerMove(sample, sample: sample, original: original, sigma: sigma, dt: sigmaDown - sigma)
        state.advance(from: index)
        return Latent.combine(denoised, random.randn(sample.count)) { x, n in x + n * sigmaUp }
    }
}
