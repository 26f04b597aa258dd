// Follows set_timesteps and the prediction conversion shared by diffusers' Karras-style
// discrete schedulers (scheduling_euler_discrete.py, scheduling_euler_ancestral_discrete.py,
// scheduling_heun_discrete.py, scheduling_lms_discrete.py, scheduling_k_dpm_2_*.py).
import Foundation

/// The timesteps and sigmas of the Karras-style discrete schedulers, built the way their
/// `set_timesteps` does: numpy float64 spacing and interpolation, cast to float32 at the end.
struct DiscreteSigmaSchedule {
    /// The options these classes read; which of them a class honours is up to the class.
    struct Options {
        var numTrainTimesteps: Int
        var timestepSpacing: String
        var stepsOffset: Int
        var sigmaSpacing: SigmaSpacing
        var sigmaMin: Double?
        var sigmaMax: Double?
        var finalSigmaIsMin = false
        /// The KDPM2 classes round karras timesteps and keep karras/exponential timesteps in
        /// float64; the others keep every timestep in float32.
        var keepsConvertedTimestepsInDouble = false
        /// Euler's interpolation_type "log_linear": numInferenceSteps + 1 sigmas evenly spaced in
        /// log between the training extremes (torch float32 linspace), whatever the timesteps.
        var logLinear = false
    }

    /// How the inference sigmas are spaced: interpolated at the spaced timesteps, or converted
    /// (karras rho = 7, evenly in log sigma, beta-distribution quantiles, or DPM-Solver's Lu
    /// lambdas) with timesteps found back from the sigmas.
    enum SigmaSpacing: String {
        case interpolated, karras, exponential, beta, lu

        /// Reads the sigma-spacing flags the way set_timesteps branches on them (karras, then
        /// Lu lambdas where the class has them, then exponential, then beta); like diffusers it
        /// refuses more than one of karras, exponential and beta.
        init(_ scheduler: String, config: SchedulerConfig, hasLuLambdas: Bool = false) throws {
            let flags = [config.useKarrasSigmas, config.useExponentialSigmas, config.useBetaSigmas]
            if flags.filter({ $0 == true }).count > 1 {
                throw SchedulerError.unsupportedOption(
                    scheduler: scheduler, option: "use_karras_sigmas/use_exponential_sigmas/use_beta_sigmas",
                    value: "more than one true")
            }
            if config.useKarrasSigmas == true { self = .karras }
            else if hasLuLambdas && config.useLuLambdas == true { self = .lu }
            else if config.useExponentialSigmas == true { self = .exponential }
            else if config.useBetaSigmas == true { self = .beta }
            else { self = .interpolated }
        }

        /// The `count` converted sigmas between the bounds, descending (not for Lu lambdas,
        /// which are spaced in the training log sigmas).
        func sigmas(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
            switch self {
            case .karras: return SigmaSchedule.karras(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: count)
            case .exponential: return SigmaSchedule.exponential(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: count)
            default: return SigmaSchedule.beta(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: count)
            }
        }
    }

    var timesteps: [Double]
    /// `numInferenceSteps + 1` float32 sigmas, the last being 0 (or sigma_min).
    var sigmas: [Float]

    /// Reads `timestep_spacing`, `steps_offset` and the sigma-spacing flags.
    static func options(
        _ scheduler: String, config: SchedulerConfig, hasSigmaBounds: Bool = false
    ) throws -> Options {
        let spacing = try SigmaSpacing(scheduler, config: config)
        return Options(
            numTrainTimesteps: config.numTrainTimesteps ?? 1000,
            timestepSpacing: try config.timestepSpacing(scheduler, default: "linspace"),
            stepsOffset: config.stepsOffset ?? 0, sigmaSpacing: spacing,
            sigmaMin: hasSigmaBounds ? config.sigmaMin : nil, sigmaMax: hasSigmaBounds ? config.sigmaMax : nil)
    }

    init(steps: Int, options: Options, noise: NoiseSchedule) {
        let spaced = Self.spacedTimesteps(steps, options)
        let trainSigmas = noise.sigmas
        var sigmas = options.logLinear
            ? NoiseSchedule.torchLinspace(NumpyFloat.log(trainSigmas[trainSigmas.count - 1]), NumpyFloat.log(trainSigmas[0]), steps + 1)
                .map { Double(Foundation.exp($0)) }
            : spaced.map { SigmaSchedule.interpolate($0, in: trainSigmas) }
        var timesteps = spaced
        if options.sigmaSpacing != .interpolated {
            let sigmaMin = options.sigmaMin ?? sigmas[sigmas.count - 1]
            let sigmaMax = options.sigmaMax ?? sigmas[0]
            sigmas = options.sigmaSpacing.sigmas(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: steps)
            let logSigmas = trainSigmas.map(NumpyFloat.log)
            timesteps = sigmas.map { SigmaSchedule.sigmaToT($0, logSigmas: logSigmas) }
        }
        let last: Float = options.finalSigmaIsMin ? trainSigmas[0] : 0
        self.sigmas = sigmas.map { Float($0) } + [last]
        guard options.keepsConvertedTimestepsInDouble, options.sigmaSpacing != .interpolated else {
            self.timesteps = timesteps.map { Double(Float($0)) }
            return
        }
        self.timesteps = options.sigmaSpacing == .karras ? TimestepSpacing.round(timesteps) : timesteps
    }

    /// The float32 spacing of timesteps (as doubles) before any sigma conversion.
    static func spacedTimesteps(_ steps: Int, _ options: Options) -> [Double] {
        let train = options.numTrainTimesteps
        switch options.timestepSpacing {
        case "leading":
            let ratio = train / steps
            return (0..<steps).reversed().map { Double(Float(Double($0 * ratio)) + Float(options.stepsOffset)) }
        case "trailing":
            let ratio = Double(train) / Double(steps)
            return TimestepSpacing.round(TimestepSpacing.arange(Double(train), 0, -ratio)).map { Double(Float($0) - 1) }
        default:
            return TimestepSpacing.linspace(0, Double(train - 1), steps).reversed().map { Double(Float($0)) }
        }
    }

    /// `init_noise_sigma`: the largest sigma, or sqrt(sigma^2 + 1) for "leading" spacing.
    static func initNoiseSigma(_ sigmas: [Float], timestepSpacing: String) -> Float {
        let largest = sigmas.max() ?? 1
        return timestepSpacing == "leading" ? (largest * largest + 1).squareRoot() : largest
    }

    /// `sample / (sigma**2 + 1) ** 0.5`, the input scaling of every Karras-style scheduler.
    static func scaled(_ sample: [Float], sigma: Float) -> [Float] {
        let divisor = (sigma * sigma + 1).squareRoot()
        return sample.map { $0 / divisor }
    }
}

/// The `prediction_type` of a sigma-parameterised model output.
enum SigmaPrediction: String {
    case epsilon, vPrediction = "v_prediction", sample

    init(_ scheduler: String, config: SchedulerConfig, supported: [SigmaPrediction] = [.epsilon, .vPrediction, .sample]) throws {
        let value = config.predictionType ?? "epsilon"
        guard let prediction = SigmaPrediction(rawValue: value), supported.contains(prediction) else {
            throw SchedulerError.unsupportedOption(scheduler: scheduler, option: "prediction_type", value: value)
        }
        self = prediction
    }

    /// The denoised estimate x0 at noise level `sigma` (`pred_original_sample`).
    func originalSample(_ modelOutput: [Float], sample: [Float], sigma: Float) -> [Float] {
        switch self {
        case .epsilon: return zip(sample, modelOutput).map { $0 - sigma * $1 }
        case .sample: return modelOutput
        case .vPrediction:
            let variance = sigma * sigma + 1
            let outputScale = -sigma / variance.squareRoot()
            return zip(modelOutput, sample).map { $0 * outputScale + $1 / variance }
        }
    }
}

/// Element-wise float32 arithmetic on flat latents, in the operand order of the torch code.
enum Latent {
    static func combine(_ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float) -> [Float] {
        zip(a, b).map(f)
    }

    static func combine(_ a: [Float], _ b: [Float], _ c: [Float], _ f: (Float, Float, Float) -> Float) -> [Float] {
        a.indices.map { f(a[$0], b[$0], c[$0]) }
    }
}

extension Latent {
    /// `c0 * x0 + c1 * x1 + ...`, each product rounded to float32 and summed left to right, as a
    /// chain of torch tensor ops computes it (`a - c * x` equals `a + (-c) * x` exactly).
    static func linear(_ terms: [(Float, [Float])]) -> [Float] {
        guard let (c0, x0) = terms.first else { return [] }
        var result = x0.map { c0 * $0 }
        for (c, x) in terms.dropFirst() {
            for i in result.indices { result[i] += c * x[i] }
        }
        return result
    }
}
