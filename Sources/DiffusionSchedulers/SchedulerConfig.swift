// Follows diffusers/configuration_utils.py: `Class.from_config(scheduler_config.json)`.
import Foundation

/// The keys of diffusers' `scheduler_config.json` that the 15 schedulers read.
///
/// Every field is optional: a key the file omits takes the default of the class being built
/// (defaults differ by class), and keys no class here reads are ignored, as
/// `Class.from_config(config_of_another_class)` does.
public struct SchedulerConfig: Codable, Equatable, Sendable {
    public var className: String?
    public var numTrainTimesteps: Int?
    public var betaStart: Double?
    public var betaEnd: Double?
    public var betaSchedule: String?
    public var trainedBetas: [Double]?
    public var predictionType: String?
    public var timestepSpacing: String?
    public var stepsOffset: Int?
    public var clipSample: Bool?
    public var clipSampleRange: Double?
    public var setAlphaToOne: Bool?
    public var thresholding: Bool?
    public var dynamicThresholdingRatio: Double?
    public var sampleMaxValue: Double?
    public var rescaleBetasZeroSnr: Bool?
    public var useKarrasSigmas: Bool?
    public var useExponentialSigmas: Bool?
    public var useBetaSigmas: Bool?
    public var useFlowSigmas: Bool?
    public var useLuLambdas: Bool?
    public var useDynamicShifting: Bool?
    public var sigmaMin: Double?
    public var sigmaMax: Double?
    public var interpolationType: String?
    public var timestepType: String?
    public var finalSigmasType: String?
    public var solverOrder: Int?
    public var algorithmType: String?
    public var solverType: String?
    public var lowerOrderFinal: Bool?
    public var eulerAtFinal: Bool?
    public var lambdaMinClipped: Double?
    public var varianceType: String?
    public var skipPrkSteps: Bool?
    public var predictX0: Bool?
    public var disableCorrector: [Int]?
    public var originalInferenceSteps: Int?
    public var timestepScaling: Double?

    public init() {}

    /// Decodes `scheduler_config.json`. Python's json module writes infinite floats as bare
    /// `Infinity` / `-Infinity` (diffusers saves `"lambda_min_clipped": -Infinity`), which strict
    /// JSON rejects; JSON5 reads them.
    ///
    /// - Throws: `DecodingError` for text that is not UTF-8 or not JSON5, or a field of the
    ///   wrong type.
    public init(json: Data) throws {
        // Foundation's JSON5 scanner traps on invalid UTF-8 where a key should be (found by
        // Fuzz/FuzzSchedulerConfig) instead of throwing, so the encoding is checked first.
        guard String(validating: json, as: UTF8.self) != nil else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the config is not valid UTF-8 text"))
        }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        self = try decoder.decode(SchedulerConfig.self, from: json)
    }

    enum CodingKeys: String, CodingKey {
        case className = "_class_name"
        case numTrainTimesteps = "num_train_timesteps"
        case betaStart = "beta_start"
        case betaEnd = "beta_end"
        case betaSchedule = "beta_schedule"
        case trainedBetas = "trained_betas"
        case predictionType = "prediction_type"
        case timestepSpacing = "timestep_spacing"
        case stepsOffset = "steps_offset"
        case clipSample = "clip_sample"
        case clipSampleRange = "clip_sample_range"
        case setAlphaToOne = "set_alpha_to_one"
        case thresholding
        case dynamicThresholdingRatio = "dynamic_thresholding_ratio"
        case sampleMaxValue = "sample_max_value"
        case rescaleBetasZeroSnr = "rescale_betas_zero_snr"
        case useKarrasSigmas = "use_karras_sigmas"
        case useExponentialSigmas = "use_exponential_sigmas"
        case useBetaSigmas = "use_beta_sigmas"
        case useFlowSigmas = "use_flow_sigmas"
        case useLuLambdas = "use_lu_lambdas"
        case useDynamicShifting = "use_dynamic_shifting"
        case sigmaMin = "sigma_min"
        case sigmaMax = "sigma_max"
        case interpolationType = "interpolation_type"
        case timestepType = "timestep_type"
        case finalSigmasType = "final_sigmas_type"
        case solverOrder = "solver_order"
        case algorithmType = "algorithm_type"
        case solverType = "solver_type"
        case lowerOrderFinal = "lower_order_final"
        case eulerAtFinal = "euler_at_final"
        case lambdaMinClipped = "lambda_min_clipped"
        case varianceType = "variance_type"
        case skipPrkSteps = "skip_prk_steps"
        case predictX0 = "predict_x0"
        case disableCorrector = "disable_corrector"
        case originalInferenceSteps = "original_inference_steps"
        case timestepScaling = "timestep_scaling"
    }
}

/// Why a scheduler could not be built.
public enum SchedulerError: Error, Equatable, CustomStringConvertible {
    /// The name is not one of the 15 diffusers classes implemented here.
    case unknownScheduler(String)
    /// The config asks `scheduler` for an option value this package does not implement.
    case unsupportedOption(scheduler: String, option: String, value: String)
    /// `setTimesteps` was given a step count the scheduler cannot produce.
    case invalidStepCount(scheduler: String, steps: Int)
    /// The schedule starts with a repeated timestep: diffusers, finding its place by timestep,
    /// would start at the second copy and run off the end of the schedule.
    case repeatedFirstTimestep(scheduler: String, steps: Int, timestep: Double)
    /// A `scheduler_config.json` value no schedule can be built from; `rule` says what is allowed.
    case invalidValue(scheduler: String, field: String, value: String, rule: String)
    /// The schedule of `steps` steps reaches a timestep outside the `train` training timesteps
    /// (through `steps_offset` or `lambda_min_clipped`), where diffusers would index out of range.
    case timestepOutOfRange(scheduler: String, steps: Int, timestep: Int, train: Int)

    public var description: String {
        switch self {
        case .unknownScheduler(let name):
            return "unknown scheduler '\(name)'; expected one of \(schedulerNames.joined(separator: ", "))"
        case .unsupportedOption(let scheduler, let option, let value):
            return "\(scheduler): \(option) = \(value) is not supported"
        case .invalidStepCount(let scheduler, let steps):
            return "\(scheduler): cannot make a schedule of \(steps) steps"
        case .repeatedFirstTimestep(let scheduler, let steps, let timestep):
            return "\(scheduler): the schedule of \(steps) steps starts with timestep \(timestep) twice, "
                + "which diffusers cannot run (it would skip the first step and overrun the schedule)"
        case .invalidValue(let scheduler, let field, let value, let rule):
            return "\(scheduler): scheduler_config.json has \(field) = \(value); it must be \(rule)"
        case .timestepOutOfRange(let scheduler, let steps, let timestep, let train):
            return "\(scheduler): the schedule of \(steps) steps reaches timestep \(timestep), outside the "
                + "\(train) training timesteps 0...\(train - 1) (check steps_offset and lambda_min_clipped)"
        }
    }

    /// Throws unless `steps` is in `minimum`...`maximum`.
    static func requireSteps(_ steps: Int, _ scheduler: String, minimum: Int = 1, maximum: Int = .max) throws {
        guard steps >= minimum, steps <= maximum else { throw invalidStepCount(scheduler: scheduler, steps: steps) }
    }

    /// Throws unless every timestep indexes the `train` training timesteps.
    static func requireTrainingTimesteps(_ timesteps: [Int], train: Int, _ scheduler: String, steps: Int) throws {
        if let outside = timesteps.first(where: { !(0..<train).contains($0) }) {
            throw timestepOutOfRange(scheduler: scheduler, steps: steps, timestep: outside, train: train)
        }
    }

    /// Throws if `timesteps` starts with a repeat (see `repeatedFirstTimestep`); the schedulers
    /// that find their first step with `SigmaSchedule.index` call this.
    static func requireDistinctStart(_ timesteps: [Double], _ scheduler: String, steps: Int) throws {
        if timesteps.count > 1, timesteps[0] == timesteps[1] {
            throw repeatedFirstTimestep(scheduler: scheduler, steps: steps, timestep: timesteps[0])
        }
    }
}

extension SchedulerConfig {
    /// Throws unless `value` is one of `supported` (the values this package implements).
    func require<T: Equatable & CustomStringConvertible>(
        _ scheduler: String, _ option: CodingKeys, _ value: T, in supported: [T]
    ) throws {
        guard supported.contains(value) else {
            throw SchedulerError.unsupportedOption(
                scheduler: scheduler, option: option.rawValue, value: value.description)
        }
    }

    /// Reads `timestep_spacing`, one of the three spacings every class offers, at the class's default.
    func timestepSpacing(_ scheduler: String, default defaultSpacing: String) throws -> String {
        let spacing = timestepSpacing ?? defaultSpacing
        try require(scheduler, .timestepSpacing, spacing, in: ["linspace", "leading", "trailing"])
        return spacing
    }

    /// Reads `final_sigmas_type`: true for "zero" (every class's default), false for "sigma_min".
    /// `allowsZero` is false where diffusers refuses "zero" (noise-prediction DPM-Solver).
    func finalSigmaIsZero(_ scheduler: String, allowsZero: Bool = true) throws -> Bool {
        let finalSigmas = finalSigmasType ?? "zero"
        try require(scheduler, .finalSigmasType, finalSigmas, in: allowsZero ? ["zero", "sigma_min"] : ["sigma_min"])
        return finalSigmas == "zero"
    }
}
