// Follows the set_timesteps shared by diffusers' scheduling_k_dpm_2_discrete.py and
// scheduling_k_dpm_2_ancestral_discrete.py: the interleaved midpoint schedule of DPM-Solver-2.
import Foundation

/// The schedule of the KDPM2 classes: every step is a first-order move to a midpoint sigma
/// (the geometric mean of two sigmas) and a second model call there, so the timesteps
/// interleave the midpoints' fractional timesteps with the ordinary ones.
struct KDPM2Schedule {
    /// The `numInferenceSteps + 1` sigmas, the last 0, before any repetition.
    let base: [Float]
    /// The base schedule's timesteps (float32 or, for karras/exponential sigmas, float64).
    let baseTimesteps: [Double]
    /// Whether timesteps stay float64 (karras/exponential sigmas) or float32.
    let keepsDouble: Bool
    let logSigmas: [Float]

    /// The base schedule of `steps` steps of `state`'s options, refused where diffusers could not run it.
    init(_ scheduler: String, steps: Int, state: DiscreteSigmaState) throws {
        try SchedulerError.requireSteps(steps, scheduler)
        var options = state.options
        options.keepsConvertedTimestepsInDouble = true
        let schedule = DiscreteSigmaSchedule(steps: steps, options: options, noise: state.noise)
        try SchedulerError.requireDistinctStart(schedule.timesteps, scheduler, steps: steps)
        base = schedule.sigmas
        baseTimesteps = schedule.timesteps
        keepsDouble = options.sigmaSpacing != .interpolated
        logSigmas = state.noise.sigmas.map(NumpyFloat.log)
    }

    /// `exp(log(a).lerp(log(b), 0.5))` in float32; torch's lerp at weight 0.5 is
    /// `end - (end - start) * 0.5`.
    static func logMidpoints(_ a: [Float], _ b: [Float]) -> [Float] {
        zip(a, b).map { start, end in
            let logStart = log(start), logEnd = log(end)
            return exp(logEnd - (logEnd - logStart) * 0.5)
        }
    }

    /// `cat([v[:1], v[1:].repeat_interleave(2), v[-1:]])`.
    static func repeatedAfterFirst(_ values: [Float]) -> [Float] {
        [values[0]] + values.dropFirst().flatMap { [$0, $0] } + [values[values.count - 1]]
    }

    /// The fractional training timestep of each midpoint sigma, in the schedule's precision.
    func timesteps(of midpoints: [Float]) -> [Double] {
        midpoints.map { sigma in
            let t = SigmaSchedule.sigmaToT(Double(sigma), logSigmas: logSigmas)
            return keepsDouble ? t : Double(Float(t))
        }
    }

    /// `[t0]` followed by (midpoint, timestep) pairs for the base timesteps after the first.
    func interleaved(midpointTimesteps: ArraySlice<Double>) -> [Double] {
        [baseTimesteps[0]] + zip(midpointTimesteps, baseTimesteps.dropFirst()).flatMap { [$0, $1] }
    }
}
