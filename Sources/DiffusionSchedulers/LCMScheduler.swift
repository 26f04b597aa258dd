// Follows diffusers/schedulers/scheduling_lcm.py.
import Foundation

/// Matches diffusers' `LCMScheduler` (latent consistency models): each step jumps to the
/// boundary-conditioned x0 estimate, then re-noises it to the next timestep with noise drawn from
/// the sample's random source. Honours beta schedules, trained betas, original_inference_steps,
/// prediction_type, clip_sample with its range, thresholding, set_alpha_to_one,
/// timestep_scaling and rescale_betas_zero_snr. Like diffusers it reads but ignores
/// timestep_spacing and steps_offset: the timesteps come from the distillation schedule.
public struct LCMScheduler: Scheduler {
    public let name = "LCMScheduler"
    public let order = 1
    public private(set) var timesteps: [Double] = []
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private let noise: NoiseSchedule
    private let finalAlphaCumprod: Float
    private let prediction: AlphaPrediction
    private let clipping: SampleClipping
    private let originalSteps: Int
    private let timestepScaling: Float
    private var stepIndex = 0

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(
            betaStart: 0.00085, betaEnd: 0.012, betaSchedule: "scaled_linear"))
        finalAlphaCumprod = config.setAlphaToOne ?? true ? 1 : noise.alphasCumprod[0]
        prediction = try AlphaPrediction(name, config: config)
        clipping = SampleClipping(config: config, clipSampleDefault: false)
        originalSteps = config.originalInferenceSteps ?? 50
        timestepScaling = Float(config.timestepScaling ?? 10)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        timesteps = try IntegerTimesteps.consistency(
            name, steps: numInferenceSteps, originalSteps: originalSteps, train: noise.alphasCumprod.count
        ).map(Double.init)
        stepIndex = 0
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let t = Int(timestep)
        let isLast = stepIndex + 1 >= timesteps.count
        let previous = isLast ? t : Int(timesteps[stepIndex + 1])
        stepIndex += 1
        let alphaProd = noise.alphasCumprod[t]
        let alphaProdPrev = previous >= 0 ? noise.alphasCumprod[previous] : finalAlphaCumprod
        let (skip, out) = boundaryScalings(t)
        let original = clipping.apply(prediction.split(modelOutput, sample: sample, alphaProd: alphaProd).original)
        let denoised = Latent.combine(original, sample) { out * $0 + skip * $1 }
        guard !isLast else { return denoised }
        let signal = alphaProdPrev.squareRoot(), noiseScale = (1 - alphaProdPrev).squareRoot()
        return Latent.combine(denoised, random.randn(sample.count)) { signal * $0 + noiseScale * $1 }
    }

    /// `get_scalings_for_boundary_condition_discrete`, in float32 as torch computes it from
    /// the int64 timestep tensor.
    private func boundaryScalings(_ t: Int) -> (skip: Float, out: Float) {
        let sigmaData: Float = 0.5
        let scaled = Float(t) * timestepScaling
        let skip = sigmaData * sigmaData / (scaled * scaled + sigmaData * sigmaData)
        let out = scaled / (scaled * scaled + sigmaData * sigmaData).squareRoot()
        return (skip, out)
    }
}
