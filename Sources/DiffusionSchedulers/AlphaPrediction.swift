// Follows the prediction_type handling and _threshold_sample of diffusers' alpha-parameterised
// schedulers (scheduling_ddim.py, scheduling_ddpm.py, scheduling_lcm.py, scheduling_tcd.py).
import Foundation

/// The `prediction_type` of a model output in terms of alpha_prod_t = alphas_cumprod[t].
enum AlphaPrediction: String {
    case epsilon, sample, vPrediction = "v_prediction"

    init(_ scheduler: String, config: SchedulerConfig) throws {
        let value = config.predictionType ?? "epsilon"
        guard let prediction = AlphaPrediction(rawValue: value) else {
            throw SchedulerError.unsupportedOption(scheduler: scheduler, option: "prediction_type", value: value)
        }
        self = prediction
    }

    /// `(pred_original_sample, pred_epsilon)` in float32, in diffusers' operand order.
    func split(_ modelOutput: [Float], sample: [Float], alphaProd: Float) -> (original: [Float], epsilon: [Float]) {
        split(modelOutput, sample: sample, alpha: alphaProd.squareRoot(), sigma: (1 - alphaProd).squareRoot())
    }

    /// The same split for a sample `alpha * x0 + sigma * epsilon`, as the DPM-Solver family
    /// writes it with alpha_t and sigma_t.
    func split(_ modelOutput: [Float], sample: [Float], alpha: Float, sigma beta: Float) -> (original: [Float], epsilon: [Float]) {
        switch self {
        case .epsilon:
            return (Latent.combine(sample, modelOutput) { ($0 - beta * $1) / alpha }, modelOutput)
        case .sample:
            return (modelOutput, Latent.combine(sample, modelOutput) { ($0 - alpha * $1) / beta })
        case .vPrediction:
            return (Latent.combine(sample, modelOutput) { alpha * $0 - beta * $1 },
                    Latent.combine(modelOutput, sample) { alpha * $0 + beta * $1 })
        }
    }
}

/// What happens to the predicted x0: dynamic thresholding (Imagen), clipping, or nothing.
enum SampleClipping {
    case none
    case clip(Float)
    case threshold(ratio: Float, maxValue: Float)

    /// Reads `thresholding` (which wins, as in diffusers) and, if `clipSampleDefault` is given,
    /// `clip_sample` and `clip_sample_range`.
    init(config: SchedulerConfig, clipSampleDefault: Bool?) {
        if config.thresholding == true {
            self = .threshold(ratio: Float(config.dynamicThresholdingRatio ?? 0.995),
                              maxValue: Float(config.sampleMaxValue ?? 1))
        } else if let clipDefault = clipSampleDefault, config.clipSample ?? clipDefault {
            self = .clip(Float(config.clipSampleRange ?? 1))
        } else {
            self = .none
        }
    }

    func apply(_ x: [Float]) -> [Float] {
        switch self {
        case .none: return x
        case .clip(let range): return x.map { min(max($0, -range), range) }
        case .threshold(let ratio, let maxValue):
            let s = min(max(Self.quantile(x.map(abs), ratio), 1), maxValue)
            return x.map { min(max($0, -s), s) / s }
        }
    }

    /// `torch.quantile(values, q)` with linear interpolation, in float32 like torch.
    static func quantile(_ values: [Float], _ q: Float) -> Float {
        let sorted = values.sorted()
        let rank = q * Float(sorted.count - 1)
        let below = rank.rounded(.down)
        let low = sorted[Int(below)], high = sorted[min(Int(below) + 1, sorted.count - 1)]
        let weight = rank - below
        // torch.lerp switches formula at weight 0.5 to stay exact at both ends.
        return weight < 0.5 ? low + weight * (high - low) : high - (high - low) * (1 - weight)
    }
}

/// The integer timestep spacings of the alpha-parameterised schedulers (DDIM, DDPM, PNDM) and
/// of the DPM-Solver family, as int64 values.
enum IntegerTimesteps {
    /// `start` is where "trailing" spacing starts counting down (the DPM-Solver family may
    /// clip it below `train`); the stride stays `train / steps`.
    static func spaced(_ spacing: String, steps: Int, train: Int, offset: Int, start: Int? = nil) -> [Int] {
        switch spacing {
        case "linspace":
            return TimestepSpacing.round(TimestepSpacing.linspace(0, Double(train - 1), steps)).reversed().map { Int($0) }
        case "trailing":
            let ratio = Double(train) / Double(steps)
            return TimestepSpacing.round(TimestepSpacing.arange(Double(start ?? train), 0, -ratio)).map { Int($0) - 1 }
        default:
            let ratio = train / steps
            return (0..<steps).reversed().map { $0 * ratio + offset }
        }
    }
}
