// The value ranges under which diffusers' schedulers compute finite schedules; diffusers
// itself checks few of them and fails later with an IndexError or NaN latents.
import Foundation

extension SchedulerConfig {
    /// The most training timesteps accepted. Stable Diffusion configs say 1000 and the largest
    /// published schedules 4000; each class keeps a few float32 tables of this length and scans
    /// them per step, so 100,000 (100x SD, under a megabyte per table) bounds the memory and
    /// time a hostile config can ask for.
    public static let maximumTrainTimesteps = 100_000

    /// Throws `SchedulerError.invalidValue` naming the first field (read at the class's
    /// `defaults` where the file omits it) that cannot give a finite schedule.
    func validate(_ scheduler: String, defaults: NoiseSchedule.Options) throws {
        func invalid(_ field: CodingKeys, _ value: Any, _ rule: String) -> SchedulerError {
            .invalidValue(scheduler: scheduler, field: field.rawValue, value: "\(value)", rule: rule)
        }
        let train = numTrainTimesteps ?? defaults.numTrainTimesteps
        guard (2...Self.maximumTrainTimesteps).contains(train) else {
            throw invalid(.numTrainTimesteps, train, "an integer in 2...\(Self.maximumTrainTimesteps)")
        }
        if let trainedBetas {
            guard trainedBetas.count == train else {
                throw invalid(.trainedBetas, "a list of \(trainedBetas.count) values",
                              "one value per training timestep (num_train_timesteps = \(train))")
            }
            if let beta = trainedBetas.first(where: { !Self.isBeta($0) }) {
                throw invalid(.trainedBetas, "a list holding \(beta)", "a list of numbers in ]0, 1[")
            }
        } else {
            let start = betaStart ?? defaults.betaStart, end = betaEnd ?? defaults.betaEnd
            guard Self.isBeta(start) else { throw invalid(.betaStart, start, "a number in ]0, 1[") }
            guard Self.isBeta(end) else { throw invalid(.betaEnd, end, "a number in ]0, 1[") }
            guard start <= end else { throw invalid(.betaStart, start, "at most beta_end (\(end))") }
        }
        try validateSteps(train: train, invalid)
        try validateSamples(invalid)
    }

    /// The fields that place timesteps and sigmas.
    private func validateSteps(train: Int, _ invalid: (CodingKeys, Any, String) -> SchedulerError) throws {
        if let stepsOffset, !(0..<train).contains(stepsOffset) {
            throw invalid(.stepsOffset, stepsOffset, "an integer in 0...\(train - 1) (num_train_timesteps - 1)")
        }
        if let originalInferenceSteps, !(1...train).contains(originalInferenceSteps) {
            throw invalid(.originalInferenceSteps, originalInferenceSteps, "an integer in 1...\(train) (num_train_timesteps)")
        }
        for (field, sigma) in [(CodingKeys.sigmaMin, sigmaMin), (.sigmaMax, sigmaMax)] {
            if let sigma, !(sigma.isFinite && sigma > 0) { throw invalid(field, sigma, "a positive number") }
        }
        if let sigmaMin, let sigmaMax, sigmaMin >= sigmaMax {
            throw invalid(.sigmaMin, sigmaMin, "less than sigma_max (\(sigmaMax))")
        }
        // -Infinity (diffusers' default) and Infinity are meaningful bounds; NaN is none.
        if let lambdaMinClipped, lambdaMinClipped.isNaN {
            throw invalid(.lambdaMinClipped, lambdaMinClipped, "a number or -Infinity")
        }
        if let timestepScaling, !timestepScaling.isFinite { throw invalid(.timestepScaling, timestepScaling, "a finite number") }
    }

    /// The fields that clip or threshold the predicted sample.
    private func validateSamples(_ invalid: (CodingKeys, Any, String) -> SchedulerError) throws {
        for (field, value) in [(CodingKeys.clipSampleRange, clipSampleRange), (.sampleMaxValue, sampleMaxValue)] {
            if let value, !(value.isFinite && value > 0) { throw invalid(field, value, "a positive number") }
        }
        if let ratio = dynamicThresholdingRatio, !(ratio >= 0 && ratio <= 1) {
            throw invalid(.dynamicThresholdingRatio, ratio, "a number in [0, 1] (a quantile)")
        }
    }

    /// A beta is a per-step noise variance: 0 would make a sigma of 0 (whose log the sigma
    /// schedules take), 1 or more a zero or negative alpha.
    private static func isBeta(_ value: Double) -> Bool { value > 0 && value < 1 }
}
