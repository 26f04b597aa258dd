// Follows set_timesteps, _sigma_to_alpha_sigma_t and convert_model_output as diffusers'
// scheduling_dpmsolver_multistep.py writes them and scheduling_deis_multistep.py,
// scheduling_unipc_multistep.py and scheduling_dpmsolver_singlestep.py copy them.
import Foundation

/// The integer timesteps and float32 sigmas of the DPM-Solver family (DPM-Solver multistep and
/// singlestep, DEIS, UniPC). Unlike the Karras-style classes, these space
/// `numInferenceSteps + 1` points and drop the last, and their karras/exponential sigmas span the
/// whole training range.
struct SolverSchedule {
    /// What follows the last sigma of the schedule.
    enum FinalSigma {
        case zero
        /// The smallest training sigma, sqrt((1 - alphas_cumprod[0]) / alphas_cumprod[0]).
        case trainingMinimum
        /// A repeat of the schedule's own last sigma.
        case repeatLast
    }

    struct Options {
        var timestepSpacing = "linspace"
        var stepsOffset = 0
        var sigmaSpacing = DiscreteSigmaSchedule.SigmaSpacing.interpolated
        var roundsKarrasTimesteps = true
        /// `sigma_min` / `sigma_max` (UniPC has them); nil means the training range.
        var sigmaMin: Double?
        var sigmaMax: Double?
        /// `num_train_timesteps - clipped_idx` of lambda_min_clipped.
        var lastTimestep: Int?
    }

    let timesteps: [Int]
    /// `timesteps.count + 1` float32 sigmas.
    let sigmas: [Float]

    /// Throws when `lambda_min_clipped` leaves no timestep or `steps_offset` pushes one past the
    /// training range.
    init(
        _ scheduler: String, steps: Int, options: Options,
        final: (DiscreteSigmaSchedule.SigmaSpacing) -> FinalSigma, noise: NoiseSchedule
    ) throws {
        let trainSigmas = noise.sigmas
        var timesteps = Self.spaced(steps, options, train: trainSigmas.count)
        guard !timesteps.isEmpty else { throw SchedulerError.invalidStepCount(scheduler: scheduler, steps: steps) }
        try SchedulerError.requireTrainingTimesteps(timesteps, train: trainSigmas.count, scheduler, steps: steps)
        var sigmas: [Double]
        if options.sigmaSpacing == .interpolated {
            sigmas = timesteps.map { Double(trainSigmas[$0]) }
        } else {
            let sigmaMin = options.sigmaMin ?? Double(trainSigmas[0])
            let sigmaMax = options.sigmaMax ?? Double(trainSigmas[trainSigmas.count - 1])
            let logSigmas = trainSigmas.map(NumpyFloat.log)
            sigmas = options.sigmaSpacing == .lu
                ? SigmaSchedule.lu(logSigmas: logSigmas, count: steps)
                : options.sigmaSpacing.sigmas(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: steps)
            let rounds = [.karras, .lu].contains(options.sigmaSpacing) && options.roundsKarrasTimesteps
            // `.to(torch.int64)` truncates whatever was not rounded.
            timesteps = sigmas.map { sigma in
                let t = SigmaSchedule.sigmaToT(sigma, logSigmas: logSigmas)
                return Int(rounds ? t.rounded(.toNearestOrEven) : t)
            }
        }
        let last: Float
        switch final(options.sigmaSpacing) {
        case .zero: last = 0
        case .trainingMinimum: last = trainSigmas[0]
        case .repeatLast: last = Float(sigmas[sigmas.count - 1])
        }
        self.timesteps = timesteps
        self.sigmas = sigmas.map { Float($0) } + [last]
    }

    /// The spacing of `numInferenceSteps + 1` points, the last (t = 0 side) dropped.
    private static func spaced(_ steps: Int, _ options: Options, train: Int) -> [Int] {
        let last = options.lastTimestep ?? train
        if options.timestepSpacing == "trailing" {
            return IntegerTimesteps.spaced("trailing", steps: steps, train: train, offset: 0, start: last)
        }
        return Array(IntegerTimesteps.spaced(
            options.timestepSpacing, steps: steps + 1, train: last, offset: options.stepsOffset).dropLast())
    }

    /// Reads the sigma-spacing flags, refusing flow sigmas and dynamic shifting (flow-matching
    /// models; not implemented here).
    static func sigmaSpacing(
        _ scheduler: String, config: SchedulerConfig, hasLuLambdas: Bool = false
    ) throws -> DiscreteSigmaSchedule.SigmaSpacing {
        for (option, value) in [(SchedulerConfig.CodingKeys.useFlowSigmas, config.useFlowSigmas),
                                (.useDynamicShifting, config.useDynamicShifting)]
        where value == true {
            throw SchedulerError.unsupportedOption(scheduler: scheduler, option: option.rawValue, value: "true")
        }
        return try DiscreteSigmaSchedule.SigmaSpacing(scheduler, config: config, hasLuLambdas: hasLuLambdas)
    }

    /// `num_train_timesteps - searchsorted(flip(lambda_t), lambda_min_clipped)`: the timesteps
    /// whose log-SNR is below the clip are left out of the schedule.
    static func lastTimestep(_ noise: NoiseSchedule, lambdaMinClipped: Double?) -> Int? {
        guard let clip = lambdaMinClipped else { return nil }
        let clipped = noise.alphasCumprod.filter { alphaProd in
            Double(log(alphaProd.squareRoot()) - log((1 - alphaProd).squareRoot())) < clip
        }
        return noise.alphasCumprod.count - clipped.count
    }

    /// Reads `solver_order`, which these classes implement up to `maximum`.
    static func solverOrder(_ scheduler: String, config: SchedulerConfig, maximum: Int = 3) throws -> Int {
        let order = config.solverOrder ?? 2
        try config.require(scheduler, .solverOrder, order, in: Array(1...maximum))
        return order
    }
}

extension SolverSchedule.Options {
    /// Reads `timestep_spacing` (at the family's default, "linspace"), `steps_offset` and the
    /// sigma-spacing flags.
    init(_ scheduler: String, config: SchedulerConfig, hasLuLambdas: Bool = false) throws {
        self.init(
            timestepSpacing: try config.timestepSpacing(scheduler, default: "linspace"),
            stepsOffset: config.stepsOffset ?? 0,
            sigmaSpacing: try SolverSchedule.sigmaSpacing(scheduler, config: config, hasLuLambdas: hasLuLambdas))
    }
}

/// A point of the diffusion `x = alpha * x0 + sigma * noise` at Karras sigma `s`, with its
/// log signal-to-noise ratio, in float32 as `_sigma_to_alpha_sigma_t` computes it.
struct SolverPoint {
    let alpha: Float
    let sigma: Float
    /// lambda = log(alpha) - log(sigma).
    let lambda: Float

    init(_ s: Float) {
        alpha = 1 / (s * s + 1).squareRoot()
        sigma = s * alpha
        lambda = log(alpha) - log(sigma)
    }
}

/// `convert_model_output` of the DPM-Solver family: the model output as a data (x0)
/// prediction, thresholded if asked, or as a noise prediction.
struct SolverModelOutput {
    let prediction: AlphaPrediction
    let clipping: SampleClipping

    init(_ scheduler: String, config: SchedulerConfig) throws {
        prediction = try AlphaPrediction(scheduler, config: config)
        clipping = SampleClipping(config: config, clipSampleDefault: nil)
        if let variance = config.varianceType, ["learned", "learned_range"].contains(variance) {
            throw SchedulerError.unsupportedOption(scheduler: scheduler, option: "variance_type", value: variance)
        }
    }

    /// The model output as x0 if `predictsData`, else as noise.
    func converted(_ modelOutput: [Float], sample: [Float], at point: SolverPoint, predictsData: Bool) -> [Float] {
        predictsData ? data(modelOutput, sample: sample, at: point) : noise(modelOutput, sample: sample, at: point)
    }

    /// x0 from the model output at `point`.
    func data(_ modelOutput: [Float], sample: [Float], at point: SolverPoint) -> [Float] {
        clipping.apply(prediction.split(modelOutput, sample: sample, alpha: point.alpha, sigma: point.sigma).original)
    }

    /// The noise prediction; thresholding (which UniPC skips here) goes through x0 and back,
    /// as DPM-Solver's does.
    func noise(_ modelOutput: [Float], sample: [Float], at point: SolverPoint, thresholds: Bool = true) -> [Float] {
        let epsilon = prediction == .epsilon ? modelOutput
            : prediction.split(modelOutput, sample: sample, alpha: point.alpha, sigma: point.sigma).epsilon
        guard thresholds, case .threshold = clipping else { return epsilon }
        let alpha = point.alpha, sigma = point.sigma
        let original = clipping.apply(Latent.combine(sample, epsilon) { ($0 - sigma * $1) / alpha })
        return Latent.combine(sample, original) { ($0 - alpha * $1) / sigma }
    }
}
