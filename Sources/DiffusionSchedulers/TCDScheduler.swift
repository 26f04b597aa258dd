// Follows diffusers/schedulers/scheduling_tcd.py.
import Foundation

/// Matches diffusers' `TCDScheduler` (trajectory consistency distillation) with `step`'s
/// default `eta = 0.3` (set `eta` to what a pipeline passes; the ControlNet pipelines pass 0): each step predicts x0 and epsilon, moves to the intermediate timestep
/// s = floor((1 - eta) * t_prev), then re-noises to t_prev with noise drawn from the sample's
/// random source. Honours beta schedules, trained betas, original_inference_steps,
/// prediction_type, set_alpha_to_one and rescale_betas_zero_snr. Like diffusers it reads but
/// ignores timestep_spacing, steps_offset, clip_sample and thresholding (its step never clips).
public struct TCDScheduler: Scheduler {
    public let name = "TCDScheduler"
    public let order = 1
    public var timesteps: [Double] { schedule.timesteps }
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    /// The stochasticity `eta` (diffusers' `gamma`) that `step` receives: 0.3 is `step`'s default
    /// and the TCD pipelines'; 0 makes the steps deterministic.
    public var eta: Float = 0.3
    private var schedule: ConsistencySchedule
    private let prediction: AlphaPrediction

    public init(config: SchedulerConfig) throws {
        schedule = try ConsistencySchedule(name, config: config)
        prediction = try AlphaPrediction(name, config: config)
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
        let previous = next ?? 0
        let s = Int(((1 - eta) * Float(previous)).rounded(.down))
        let alphaProdPrev = schedule.alphaProd(previous), alphaProdS = schedule.noise.alphasCumprod[s]
        let (original, epsilon) = prediction.split(modelOutput, sample: sample, alphaProd: schedule.alphaProd(t))
        let signalS = alphaProdS.squareRoot(), noiseS = (1 - alphaProdS).squareRoot()
        let noised = Latent.combine(original, epsilon) { signalS * $0 + noiseS * $1 }
        guard eta > 0, next != nil else { return noised }
        let ratio = alphaProdPrev / alphaProdS
        let signal = ratio.squareRoot(), noiseScale = (1 - ratio).squareRoot()
        return Latent.combine(noised, random.randn(sample.count)) { signal * $0 + noiseScale * $1 }
    }
}
