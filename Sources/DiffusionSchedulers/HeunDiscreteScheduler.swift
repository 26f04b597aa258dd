// Follows diffusers/schedulers/scheduling_heun_discrete.py.
import Foundation

/// Matches diffusers' `HeunDiscreteScheduler` (Karras et al. Algorithm 1, second order): every
/// interior timestep appears twice, the first visit an Euler predictor and the second the
/// trapezoidal corrector. Honours beta schedules, trained betas, prediction_type,
/// timestep_spacing, steps_offset, karras/exponential/beta sigmas and clip_sample with its range.
public struct HeunDiscreteScheduler: Scheduler {
    public let name = "HeunDiscreteScheduler"
    public let order = 2
    public private(set) var timesteps: [Double] = []
    public private(set) var sigmas: [Float] = []
    public var initNoiseSigma: Float { DiscreteSigmaSchedule.initNoiseSigma(sigmas, timestepSpacing: options.timestepSpacing) }

    private let noise: NoiseSchedule
    private let options: DiscreteSigmaSchedule.Options
    private let prediction: SigmaPrediction
    private let clipRange: Float?
    private var stepIndex: Int?
    /// The predictor's derivative, step size and starting sample, kept for the corrector.
    private var predictor: (derivative: [Float], dt: Float, sample: [Float])?

    public init(config: SchedulerConfig) throws {
        noise = try NoiseSchedule(name, config: config, defaults: .init(betaStart: 0.00085, betaEnd: 0.012, hasZeroSnrOption: false))
        options = try DiscreteSigmaSchedule.options(name, config: config)
        prediction = try SigmaPrediction(name, config: config)
        clipRange = config.clipSample == true ? Float(config.clipSampleRange ?? 1) : nil
    }

    public mutating func setTimesteps(_ numInferenceSteps: Int) throws {
        try SchedulerError.requireSteps(numInferenceSteps, name)
        let schedule = DiscreteSigmaSchedule(steps: numInferenceSteps, options: options, noise: noise)
        try SchedulerError.requireDistinctStart(schedule.timesteps, name, steps: numInferenceSteps)
        (timesteps, sigmas) = Self.doubled(schedule)
        stepIndex = nil
        predictor = nil
    }

    /// Repeats every interior timestep and sigma, one copy for each Heun stage.
    static func doubled(_ schedule: DiscreteSigmaSchedule) -> ([Double], [Float]) {
        let s = schedule.sigmas, t = schedule.timesteps
        let sigmas = [s[0]] + s[1..<(s.count - 1)].flatMap { [$0, $0] } + [s[s.count - 1]]
        return ([t[0]] + t.dropFirst().flatMap { [$0, $0] }, sigmas)
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
        stepIndex = index + 1
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
