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
public let schedulerNames = SchedulerKind.allCases.map(\.rawValue)

/// Builds the scheduler `name` from a config, like diffusers' `Class.from_config(config)`.
/// Throws for an unknown name or for a config option the scheduler does not implement.
public func makeScheduler(named name: String, config: SchedulerConfig) throws -> any Scheduler {
    guard let kind = SchedulerKind(rawValue: name) else { throw SchedulerError.unknownScheduler(name) }
    return try kind.make(config: config)
}

/// Builds the scheduler `name` from the bytes of a `scheduler_config.json`.
public func makeScheduler(named name: String, config json: Data) throws -> any Scheduler {
    try makeScheduler(named: name, config: SchedulerConfig(json: json))
}
