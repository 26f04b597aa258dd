// Follows diffusers/schedulers/scheduling_ddim.py.
import Foundation

/// Matches diffusers' `DDIMScheduler` with `eta = 0` (the pipelines' default), which is
/// deterministic. Honours beta schedules, trained betas, prediction_type, timestep_spacing,
/// steps_offset, clip_sample with its range, thresholding, set_alpha_to_one and
/// rescale_betas_zero_snr.
public struct DDIMScheduler: Scheduler {
    public let name = "DDIMScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let finalAlphaCumprod: Float
    private let prediction: AlphaPrediction
    private let clipping: SampleClipping
    private let spacing: String
    private let stepsOffset: Int
    private var numInferenceSteps = 1

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config)
        finalAlphaCumprod = config.setAlphaToOne ?? true ? 1 : noise.alphasCumprod[0]
        prediction = try AlphaPrediction(name, config: config)
        clipping = SampleClipping(config: config, clipSampleDefault: true)
        spacing = try config.timestepSpacing(name, default: "leading")
        stepsOffset = config.stepsOffset ?? 0
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name, maximum: noise.alphasCumprod.count)
        self.numInferenceSteps = numInferenceSteps
        timesteps = IntegerTimesteps.spaced(spacing, steps: numInferenceSteps, train: noise.alphasCumprod.count, offset: stepsOffset)
            .map(Double.init)
        try SchedulerError.requireTrainingTimesteps(timesteps.map { Int($0) }, train: noise.alphasCumprod.count, name, steps: numInferenceSteps)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let t = Int(timestep), previous = t - noise.alphasCumprod.count / numInferenceSteps
        let alphaProd = noise.alphasCumprod[t]
        let alphaProdPrev = previous >= 0 ? noise.alphasCumprod[previous] : finalAlphaCumprod
        let (predicted, epsilon) = prediction.split(modelOutput, sample: sample, alphaProd: alphaProd)
        let original = clipping.apply(predicted)
        let directionScale = (1 - alphaProdPrev).squareRoot(), originalScale = alphaProdPrev.squareRoot()
        return Latent.combine(original, epsilon) { x0, e in originalScale * x0 + directionScale * e }
    }
}
