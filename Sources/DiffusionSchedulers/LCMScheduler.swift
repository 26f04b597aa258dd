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
    public var timesteps: [Double] { schedule.timesteps }
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    private var schedule: ConsistencySchedule
    private let prediction: AlphaPrediction
    private let clipping: SampleClipping
    private let timestepScaling: Float

    public init(config: SchedulerConfig) throws {
        schedule = try ConsistencySchedule(name, config: config)
        prediction = try AlphaPrediction(name, config: config)
        clipping = SampleClipping(config: config, clipSampleDefault: false)
        timestepScaling = Float(config.timestepScaling ?? 10)
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try schedule.setTimesteps(name, steps: numInferenceSteps)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] { sample }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let t = Int(timestep)
        let next = schedule.advance()
        let alphaProd = schedule.alphaProd(t)
        let (skip, out) = boundaryScalings(t)
        let original = clipping.apply(prediction.split(modelOutput, sample: sample, alphaProd: alphaProd).original)
        let denoised = Latent.combine(original, sample) { out * $0 + skip * $1 }
        guard let previous = next else { return denoised }
        let alphaProdPrev = schedule.alphaProd(previous)
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
