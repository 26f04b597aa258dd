// Follows diffusers/schedulers/scheduling_heun_discrete.py.
import Foundation

/// Matches diffusers' `HeunDiscreteScheduler` (Karras et al. Algorithm 1, second order): every
/// interior timestep appears twice, the first visit an Euler predictor and the second the
/// trapezoidal corrector. Honours beta schedules, trained betas, prediction_type,
/// timestep_spacing, steps_offset, karras/exponential/beta sigmas and clip_sample with its range.
public struct HeunDiscreteScheduler: Scheduler {
    public let name = "HeunDiscreteScheduler"
    public let order = 2
    public var timesteps: [Double] { state.timesteps }
    public var sigmas: [Float] { state.sigmas }
    public var initNoiseSigma: Float { state.initNoiseSigma }

    private let prediction: SigmaPrediction
    private let clipRange: Float?
    private var state: DiscreteSigmaState
    /// The predictor's derivative, step size and starting sample, kept for the corrector.
    private var predictor: (derivative: [Float], dt: Float, sample: [Float])?

    public init(config: SchedulerConfig) throws {
        state = try DiscreteSigmaState(name, config: config, noiseDefaults: .init(betaStart: 0.00085, betaEnd: 0.012, hasZeroSnrOption: false))
        prediction = try SigmaPrediction(name, config: config)
        clipRange = config.clipSample == true ? Float(config.clipSampleRange ?? 1) : nil
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        let (timesteps, sigmas) = Self.doubled(try state.schedule(name, steps: numInferenceSteps))
        state.start(timesteps: timesteps, sigmas: sigmas)
        predictor = nil
    }

    /// Repeats every interior timestep and sigma, one copy for each Heun stage.
    static func doubled(_ schedule: DiscreteSigmaSchedule) -> ([Double], [Float]) {
        let s = schedule.sigmas, t = schedule.timesteps
        let sigmas = [s[0]] + s[1..<(s.count - 1)].flatMap { [$0, $0] } + [s[s.count - 1]]
        return ([t[0]] + t.dropFirst().flatMap { [$0, $0] }, sigmas)
    }

    public mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float] {
        state.scaled(sample, timestep: timestep)
    }

    public mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R
    ) -> [Float] {
        let index = state.index(of: timestep)
        state.advance(from: index)
        if let first = predictor {
            let sigmaNext = sigmas[index]
            let original = clipped(prediction.originalSample(modelOutput, sample: sample, sigma: sigmaNext))
            let derivative = Latent.combine(sample, original, first.derivative) { x, x0, d in (d + (x - x0) / sigmaNext) / 2 }
            predictor = nil
            return Latent.combine(first.sample, derivative) { x, d in x + d * first.dt }
        }
        let sigma = sigmas[index], sigmaNext = sigmas[index + 1]
        let original = clipped(prediction.originalSample(modelOutput, sample: sample, sigma: sigma))
        let derivative = Latent.combine(sample, original) { x, x0 in (x - x0) / sigma }
        let dt = sigmaNext - sigma
        predictor = (derivative, dt, sample)
        return Latent.combine(sample, derivative) { x, d in x + d * dt }
    }

    private func clipped(_ values: [Float]) -> [Float] {
        guard let range = clipRange else { return values }
        return values.map { min(max($0, -range), range) }
    }
}
