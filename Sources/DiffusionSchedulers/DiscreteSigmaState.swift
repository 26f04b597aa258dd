// Follows the step bookkeeping of diffusers' scheduling_euler_discrete.py that the other
// Karras-style discrete schedulers copy: init_noise_sigma, _init_step_index (index_for_timestep),
// scale_model_input and the `_step_index` count.
import Foundation

/// What a Karras-style discrete scheduler keeps between calls: the schedule it walks and its
/// place in it. The classes differ only in how they build the schedule and step along it.
struct DiscreteSigmaState {
    let noise: NoiseSchedule
    let options: DiscreteSigmaSchedule.Options
    private(set) var timesteps: [Double] = []
    private(set) var sigmas: [Float] = []
    private var stepIndex: Int?

    init(noise: NoiseSchedule, options: DiscreteSigmaSchedule.Options) {
        self.noise = noise
        self.options = options
    }

    /// Reads the noise schedule, at the class's `noiseDefaults`, and the options that every
    /// Karras-style class has.
    init(_ scheduler: String, config: SchedulerConfig, noiseDefaults: NoiseSchedule.Options) throws {
        self.init(noise: try NoiseSchedule(scheduler, config: config, defaults: noiseDefaults),
                  options: try DiscreteSigmaSchedule.options(scheduler, config: config))
    }

    /// `init_noise_sigma` of the current schedule.
    var initNoiseSigma: Float { DiscreteSigmaSchedule.initNoiseSigma(sigmas, timestepSpacing: options.timestepSpacing) }

    /// The schedule of `steps` steps, refused where diffusers could not run it.
    func schedule(_ scheduler: String, steps: Int) throws -> DiscreteSigmaSchedule {
        try SchedulerError.requireSteps(steps, scheduler)
        let schedule = DiscreteSigmaSchedule(steps: steps, options: options, noise: noise)
        try SchedulerError.requireDistinctStart(schedule.timesteps, scheduler, steps: steps)
        return schedule
    }

    /// Starts walking `timesteps` (with their `sigmas`) from the top, as set_timesteps leaves it.
    mutating func start(timesteps: [Double], sigmas: [Float]) {
        self.timesteps = timesteps
        self.sigmas = sigmas
        stepIndex = nil
    }

    /// The index of the step at `timestep`: looked up on the first call (`_init_step_index`),
    /// counted from there on.
    mutating func index(of timestep: Double) -> Int {
        let index = stepIndex ?? SigmaSchedule.index(of: timestep, in: timesteps)
        stepIndex = index
        return index
    }

    /// Ends the step at `index`.
    mutating func advance(from index: Int) { stepIndex = index + 1 }

    /// `scale_model_input` by the sigma of `timestep`'s step.
    mutating func scaled(_ sample: [Float], timestep: Double) -> [Float] {
        DiscreteSigmaSchedule.scaled(sample, sigma: sigmas[index(of: timestep)])
    }
}

extension Latent {
    /// `x + derivative * dt` with diffusers' `derivative = (sample - pred_original_sample) / sigma`:
    /// the Euler move of the Karras-style steps, from the sample itself or (KDPM2's second
    /// call) from the sample its first call started at.
    static func eulerMove(_ x: [Float], sample: [Float], original: [Float], sigma: Float, dt: Float) -> [Float] {
        combine(x, sample, original) { x, current, x0 in x + (current - x0) / sigma * dt }
    }
}
