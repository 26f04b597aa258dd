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
    public private(set) var timesteps: [Double] = []
    public let sigmas: [Float] = []
    public let initNoiseSigma: Float = 1

    /// The stochasticity `eta` (diffusers' `gamma`) that `step` receives: 0.3 is `step`'s default
    /// and the TCD pipelines'; 0 makes the steps deterministic.
    public var eta: Float = 0.3
    private let noise: NoiseSchedule
    private let finalAlphaCumprod: Float
    private let prediction: AlphaPrediction
    private let originalSteps: Int
    private var stepIndex = 0

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(
            betaStart: 0.00085, betaEnd: 0.012, betaSchedule: "scaled_linear"))
        finalAlphaCumprod = config.setAlphaToOne ?? true ? 1 : noise.alphasCumprod[0]
        prediction = try AlphaPrediction(name, config: config)
        originalSteps = config.originalInferenceSteps ?? 50
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
        let previous = isLast ? 0 : Int(timesteps[stepIndex + 1])
        stepIndex += 1
        let s = Int(((1 - eta) * Float(previous)).rounded(.down))
        let alphaProd = noise.alphasCumprod[t]
        let alphaProdPrev = previous >= 0 ? noise.alphasCumprod[previous] : finalAlphaCumprod
        let alphaProdS = noise.alphasCumprod[s]
        let (original, epsilon) = prediction.split(modelOutput, sample: sample, alphaProd: alphaProd)
        let signalS = alphaProdS.squareRoot(), noiseS = (1 - alphaProdS).squareRoot()
        let noised = Latent.combine(original, epsilon) { signalS * $0 + noiseS * $1 }
        guard eta > 0, !isLast else { return noised }
        let ratio = alphaProdPrev / alphaProdS
        let signal = ratio.squareRoot(), noiseScale = (1 - ratio).squareRoot()
        return Latent.combine(noised, random.randn(sample.count)) { signal * $0 + noiseScale * $1 }
    }
}
