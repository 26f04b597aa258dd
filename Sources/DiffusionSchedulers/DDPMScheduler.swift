// Follows diffusers/schedulers/scheduling_ddpm.py.
import Foundation

/// Matches diffusers' `DDPMScheduler`: ancestral sampling of the posterior q(x_t-1 | x_t, x0),
/// with the posterior noise drawn from the sample's random source. Honours beta schedules,
/// trained betas, prediction_type, timestep_spacing, steps_offset, clip_sample with its range,
/// thresholding, rescale_betas_zero_snr and variance_type fixed_small, fixed_small_log and
/// fixed_large. The learned variances need a model that predicts them (twice the latent
/// channels) and are refused, as is fixed_large_log (diffusers takes the square root of a log).
public struct DDPMScheduler: Scheduler {
    public let name = "DDPMScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let prediction: AlphaPrediction
    private let clipping: SampleClipping
    private let varianceType: String
    private let spacing: String
    private let stepsOffset: Int

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config)
        prediction = try AlphaPrediction(name, config: config)
        clipping = SampleClipping(config: config, clipSampleDefault: true)
        varianceType = config.varianceType ?? "fixed_small"
        try config.require(name, .varianceType, varianceType, in: ["fixed_small", "fixed_small_log", "fixed_large"])
        spacing = try config.timestepSpacing(name, default: "leading")
        stepsOffset = config.stepsOffset ?? 0
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let train = noise.alphasCumprod.count
        try SchedulerError.requireSteps(numInferenceSteps, name, maximum: train)
        timesteps = IntegerTimesteps.spaced(spacing, steps: numInferenceSteps, train: train, offset: stepsOffset)
            .map(Double.init)
        try SchedulerError.requireTrainingTimesteps(timesteps.map { Int($0) }, train: train, name, steps: numInferenceSteps)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let t = Int(timestep), previous = previousTimestep(t)
        let alphaProd = noise.alphasCumprod[t]
        let alphaProdPrev: Float = previous >= 0 ? noise.alphasCumprod[previous] : 1
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        let currentAlpha = alphaProd / alphaProdPrev, currentBeta = 1 - currentAlpha
        let original = clipping.apply(prediction.split(modelOutput, sample: sample, alphaProd: alphaProd).original)
        let originalCoefficient = alphaProdPrev.squareRoot() * currentBeta / betaProd
        let sampleCoefficient = currentAlpha.squareRoot() * betaProdPrev / betaProd
        let mean = Latent.combine(original, sample) { originalCoefficient * $0 + sampleCoefficient * $1 }
        guard t > 0 else { return mean }
        let deviation = standardDeviation(alphaProdPrev: alphaProdPrev, betaProd: betaProd, currentBeta: currentBeta)
        return Latent.combine(mean, random.randn(sample.count)) { $0 + deviation * $1 }
    }

    /// The timestep after `t` in the schedule, or -1 after the last one.
    private func previousTimestep(_ t: Int) -> Int {
        guard let index = timesteps.firstIndex(of: Double(t)), index + 1 < timesteps.count else { return -1 }
        return Int(timesteps[index + 1])
    }

    /// `_get_variance(t) ** 0.5` (or, for fixed_small_log, `exp(0.5 * log(variance))`).
    private func standardDeviation(alphaProdPrev: Float, betaProd: Float, currentBeta: Float) -> Float {
        let variance = max((1 - alphaProdPrev) / betaProd * currentBeta, 1e-20)
        switch varianceType {
        case "fixed_small_log": return exp(0.5 * log(variance))
        case "fixed_large": return currentBeta.squareRoot()
        default: return variance.squareRoot()
        }
    }
}
