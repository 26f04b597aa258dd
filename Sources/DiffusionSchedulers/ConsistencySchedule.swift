// Follows what diffusers' scheduling_tcd.py copies from scheduling_lcm.py: the config defaults,
// set_timesteps' distillation schedule, and the step's walk to the next timestep.
import Foundation

/// The schedule the consistency-model schedulers (LCM, TCD) walk: the training noise, their
/// timesteps and the step they are at. The classes differ only in how a step moves.
struct ConsistencySchedule {
    let noise: NoiseSchedule
    private let finalAlphaCumprod: Float
    private let originalSteps: Int
    private(set) var timesteps: [Double] = []
    private var stepIndex = 0

    /// Reads the beta schedule (scaled-linear 0.00085...0.012 by default), set_alpha_to_one and
    /// original_inference_steps.
    init(_ scheduler: String, config: SchedulerConfig) throws {
        noise = try NoiseSchedule(scheduler, config: config, defaults: .init(
            betaStart: 0.00085, betaEnd: 0.012, betaSchedule: "scaled_linear"))
        finalAlphaCumprod = config.setAlphaToOne ?? true ? 1 : noise.alphasCumprod[0]
        originalSteps = config.originalInferenceSteps ?? 50
    }

    /// `num_inference_steps` timesteps evenly chosen, from the top, among the
    /// `original_inference_steps` that the model was distilled on.
    mutating func setTimesteps(_ scheduler: String, steps: Int) throws {
        let train = noise.alphasCumprod.count
        guard originalSteps > 0, originalSteps <= train, steps > 0, steps <= originalSteps else {
            throw SchedulerError.invalidStepCount(scheduler: scheduler, steps: steps)
        }
        let k = train / originalSteps
        let origin = (1...originalSteps).reversed().map { $0 * k - 1 }
        let stride = Double(origin.count) / Double(steps)
        timesteps = (0..<steps).map { Double(origin[Int((Double($0) * stride).rounded(.down))]) }
        stepIndex = 0
    }

    /// The timestep after the current step's, or nil at the last step; moves on to the next step.
    mutating func advance() -> Int? {
        defer { stepIndex += 1 }
        return stepIndex + 1 < timesteps.count ? Int(timesteps[stepIndex + 1]) : nil
    }

    /// `alphas_cumprod[t]`, or `final_alpha_cumprod` for a timestep before the first.
    func alphaProd(_ t: Int) -> Float { t >= 0 ? noise.alphasCumprod[t] : finalAlphaCumprod }
}
