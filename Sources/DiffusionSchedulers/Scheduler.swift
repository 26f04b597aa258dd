// The common surface of diffusers' SchedulerMixin as the pipelines use it.
import Foundation

/// A diffusers noise scheduler working on one sample's flat float32 latent.
///
/// The pipeline calls `setTimesteps`, multiplies the initial noise by `initNoiseSigma`, then
/// for each `t` in `timesteps`: `scaleModelInput`, the model, `step`. Schedulers keep their
/// own step counter and history, as diffusers' do, so one instance serves one sample.
public protocol Scheduler {
    /// The diffusers class this scheduler matches.
    var name: String { get }
    /// Model evaluations per step of the underlying solver (2 for Heun and KDPM2).
    var order: Int { get }
    /// The timesteps to run, in diffusers' values (integers for some classes, fractions for others).
    var timesteps: [Double] { get }
    /// The noise levels of the schedule, for sigma-based classes; empty otherwise.
    var sigmas: [Float] { get }
    /// The standard deviation of the initial noise.
    var initNoiseSigma: Float { get }

    /// Builds the schedule for `numInferenceSteps` denoising steps and resets the history.
    mutating func setTimesteps(_ numInferenceSteps: Int) throws
    /// Scales the latent before the model sees it at `timestep`.
    mutating func scaleModelInput(_ sample: [Float], timestep: Double) -> [Float]
    /// One denoising step from `sample` at `timestep` given the model's output; stochastic
    /// schedulers draw this sample's noise from `random`.
    mutating func step<R: RandomSource>(
        modelOutput: [Float], timestep: Double, sample: [Float], random: inout R) -> [Float]
}

/// The `scheduler` names accepted by `makeScheduler`, as diffusers names the classes.
public let schedulerNames = [
    "DDIMScheduler", "DDPMScheduler", "DEISMultistepScheduler", "DPMSolverMultistepScheduler",
    "DPMSolverSinglestepScheduler", "EulerAncestralDiscreteScheduler", "EulerDiscreteScheduler",
    "HeunDiscreteScheduler", "KDPM2AncestralDiscreteScheduler", "KDPM2DiscreteScheduler",
    "LCMScheduler", "LMSDiscreteScheduler", "PNDMScheduler", "TCDScheduler", "UniPCMultistepScheduler",
]

/// Builds the scheduler `name` from a config, like diffusers' `Class.from_config(config)`.
/// Throws for an unknown name or for a config option the scheduler does not implement.
public func makeScheduler(named name: String, config: SchedulerConfig) throws -> any Scheduler {
    switch name {
    case "DDIMScheduler": return try DDIMScheduler(config: config)
    case "DDPMScheduler": return try DDPMScheduler(config: config)
    case "DEISMultistepScheduler": return try DEISMultistepScheduler(config: config)
    case "DPMSolverMultistepScheduler": return try DPMSolverMultistepScheduler(config: config)
    case "DPMSolverSinglestepScheduler": return try DPMSolverSinglestepScheduler(config: config)
    case "EulerAncestralDiscreteScheduler": return try EulerAncestralDiscreteScheduler(config: config)
    case "EulerDiscreteScheduler": return try EulerDiscreteScheduler(config: config)
    case "HeunDiscreteScheduler": return try HeunDiscreteScheduler(config: config)
    case "KDPM2AncestralDiscreteScheduler": return try KDPM2AncestralDiscreteScheduler(config: config)
    case "KDPM2DiscreteScheduler": return try KDPM2DiscreteScheduler(config: config)
    case "LCMScheduler": return try LCMScheduler(config: config)
    case "LMSDiscreteScheduler": return try LMSDiscreteScheduler(config: config)
    case "PNDMScheduler": return try PNDMScheduler(config: config)
    case "TCDScheduler": return try TCDScheduler(config: config)
    case "UniPCMultistepScheduler": return try UniPCMultistepScheduler(config: config)
    default: throw SchedulerError.unknownScheduler(name)
    }
}

/// Builds the scheduler `name` from the bytes of a `scheduler_config.json`.
public func makeScheduler(named name: String, config json: Data) throws -> any Scheduler {
    try makeScheduler(named: name, config: SchedulerConfig(json: json))
}
