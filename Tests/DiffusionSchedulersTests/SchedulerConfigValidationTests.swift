import DiffusionSchedulers
import Foundation
import Testing

/// Every value of `scheduler_config.json` is checked before use: a value no schedule can be
/// built from is a `SchedulerError` naming the field, for every class, never a trap.
struct SchedulerConfigValidationTests {
    private func config(_ json: String) throws -> SchedulerConfig {
        try SchedulerConfig(json: Data(json.utf8))
    }

    /// Builds `name` from `json` and runs `steps` steps of a small latent; returns the error.
    private func failure(_ name: String, _ json: String, steps: Int = 10) throws -> SchedulerError? {
        do {
            var scheduler = try makeScheduler(named: name, config: try config(json))
            try scheduler.setTimesteps(steps)
            var random = TorchRandomSource(seed: 0)
            var sample: [Float] = [0.5, -1, 2, 0]
            for t in scheduler.timesteps {
                let input = scheduler.scaleModelInput(sample, timestep: t)
                sample = scheduler.step(modelOutput: input.map { $0 * 0.1 }, timestep: t, sample: sample, random: &random)
            }
            return nil
        } catch let error as SchedulerError {
            return error
        }
    }

    /// (config, the field the error must name). Each one trapped (NaN to Int, index out of
    /// range) or computed NaN latents in some class before validation.
    static let invalidConfigs: [(String, String)] = [
        (#"{"beta_start": 0.02, "beta_end": 0.001}"#, "beta_start"),
        (#"{"beta_start": -0.1}"#, "beta_start"),
        (#"{"beta_end": 5.012}"#, "beta_end"),
        (#"{"beta_end": 1}"#, "beta_end"),
        (#"{"beta_end": NaN}"#, "beta_end"),
        (#"{"trained_betas": []}"#, "trained_betas"),
        (#"{"num_train_timesteps": 3, "trained_betas": [0.1, 1.5, 0.2]}"#, "trained_betas"),
        (#"{"num_train_timesteps": 3, "trained_betas": [0.1, -0.5, 0.2]}"#, "trained_betas"),
        (#"{"num_train_timesteps": 0}"#, "num_train_timesteps"),
        (#"{"num_train_timesteps": 1}"#, "num_train_timesteps"),
        (#"{"num_train_timesteps": -5}"#, "num_train_timesteps"),
        (#"{"num_train_timesteps": 100000000}"#, "num_train_timesteps"),
        (#"{"steps_offset": 100000}"#, "steps_offset"),
        (#"{"steps_offset": -100000}"#, "steps_offset"),
        (#"{"sigma_min": NaN, "use_karras_sigmas": true}"#, "sigma_min"),
        (#"{"sigma_max": -1, "use_karras_sigmas": true}"#, "sigma_max"),
        (#"{"sigma_min": 10, "sigma_max": 1}"#, "sigma_min"),
        (#"{"thresholding": true, "dynamic_thresholding_ratio": 2}"#, "dynamic_thresholding_ratio"),
        (#"{"clip_sample": true, "clip_sample_range": -1}"#, "clip_sample_range"),
        (#"{"thresholding": true, "sample_max_value": Infinity}"#, "sample_max_value"),
        (#"{"lambda_min_clipped": NaN}"#, "lambda_min_clipped"),
        (#"{"timestep_scaling": Infinity}"#, "timestep_scaling"),
        (#"{"original_inference_steps": 0}"#, "original_inference_steps"),
        // Doubles that round to a float32 beta of 0, and 100,000 default betas whose product is 0.
        (#"{"beta_start": 1e-50, "beta_end": 1e-50}"#, "beta_start/beta_end/num_train_timesteps"),
        (#"{"num_train_timesteps": 100000, "beta_schedule": "linear"}"#, "beta_start/beta_end/num_train_timesteps"),
        // alphas_cumprod ends near 4e-41, a float32 subnormal whose sigma overflows (found by
        // Fuzz/FuzzSchedulerConfig: NaN timesteps, then an index past Euler's schedule).
        (#"{"num_train_timesteps": 9259, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "use_beta_sigmas": true, "sigma_min": 0.1}"#,
         "beta_start/beta_end/num_train_timesteps"),
    ]

    @Test(arguments: schedulerNames)
    func invalidValuesAreErrorsNamingTheField(_ name: String) throws {
        for (json, field) in Self.invalidConfigs {
            let error = try failure(name, json)
            guard case .invalidValue(let scheduler, let named, _, _)? = error else {
                Issue.record("\(name) with \(json): expected an error naming \(field), got \(String(describing: error))")
                continue
            }
            #expect(scheduler == name)
            #expect(named == field, "\(name) with \(json)")
            #expect(error?.description.contains("scheduler_config.json has \(field) = ") == true)
        }
    }

    @Test func errorSaysWhatIsAllowed() throws {
        let error = try failure("PNDMScheduler", #"{"steps_offset": 100000}"#)
        #expect(error?.description
            == "PNDMScheduler: scheduler_config.json has steps_offset = 100000; it must be an integer in 0...999 (num_train_timesteps - 1)")
    }

    /// The largest accepted schedule still builds and runs.
    @Test func maximumTrainTimestepsRuns() throws {
        let json = #"{"num_train_timesteps": 100000, "beta_start": 0.00000085, "beta_end": 0.0000012}"#
        #expect(try failure("EulerDiscreteScheduler", json) == nil)
        #expect(try failure("DDIMScheduler", json) == nil)
    }

    /// A steps_offset within range can still push "leading" timesteps past the last training
    /// timestep at a high step count: 1000 steps of stride 1 plus offset 1 reach 1000.
    @Test(arguments: ["DDIMScheduler", "DDPMScheduler", "PNDMScheduler", "DPMSolverMultistepScheduler", "DEISMultistepScheduler"])
    func offsetPastTheLastTimestepIsAnError(_ name: String) throws {
        let json = #"{"steps_offset": 999, "timestep_spacing": "leading", "skip_prk_steps": true}"#
        let error = try failure(name, json, steps: 500)
        guard case .timestepOutOfRange(name, 500, let timestep, 1000)? = error else {
            Issue.record("\(name): expected timestepOutOfRange, got \(String(describing: error))")
            return
        }
        #expect(timestep >= 1000)
        #expect(try failure(name, #"{"steps_offset": 1, "timestep_spacing": "leading", "skip_prk_steps": true}"#, steps: 500) == nil)
    }

    /// lambda_min_clipped = Infinity clips every timestep away.
    @Test(arguments: ["DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler"])
    func lambdaClippingEverythingIsAnError(_ name: String) throws {
        for spacing in ["linspace", "leading", "trailing"] {
            let error = try failure(name, #"{"lambda_min_clipped": Infinity, "timestep_spacing": "\#(spacing)"}"#)
            #expect(error != nil, "\(name) \(spacing)")
        }
    }

    /// Invalid UTF-8 where a JSON5 key may start made Foundation's scanner trap (the input
    /// Fuzz/FuzzSchedulerConfig found); it is a decoding error now.
    @Test func invalidUTF8IsADecodingError() throws {
        let json = Data(#"{"steps_offset":1,"#.utf8) + Data([0xFF, 0xFF, 0xFF, 0xFF]) + Data(#""timestep_spacing":"leading"}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try SchedulerConfig(json: json) }
        #expect(throws: DecodingError.self) { _ = try SchedulerConfig(json: Data([0x7B, 0xC3, 0x28, 0x7D])) }
    }

    /// Python's json module writes non-finite floats as bare words, and diffusers saves
    /// `"lambda_min_clipped": -Infinity`: all three parse, and -Infinity builds a schedule.
    @Test func pythonNonFiniteLiteralsParse() throws {
        let parsed = try config(#"{"lambda_min_clipped": -Infinity, "sigma_max": Infinity, "sigma_min": NaN}"#)
        #expect(parsed.lambdaMinClipped == -.infinity)
        #expect(parsed.sigmaMax == .infinity)
        #expect(parsed.sigmaMin?.isNaN == true)
        #expect(try failure("DPMSolverMultistepScheduler", #"{"lambda_min_clipped": -Infinity}"#) == nil)
    }
}
