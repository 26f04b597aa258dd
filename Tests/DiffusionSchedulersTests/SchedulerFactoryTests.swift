import DiffusionSchedulers
import Foundation
import Testing

/// The config rules of `Class.from_config(config)`: unknown keys ignored, missing keys at the
/// class's defaults, and anything this package does not implement refused by name.
struct SchedulerFactoryTests {
    private func config(_ json: String) throws -> SchedulerConfig {
        try SchedulerConfig(json: Data(json.utf8))
    }

    @Test func everyNameBuildsFromAnotherClassConfig() throws {
        let sd15 = try config(#"{"_class_name": "PNDMScheduler", "beta_schedule": "scaled_linear", "skip_prk_steps": true, "some_future_key": [1, 2]}"#)
        for name in schedulerNames {
            let scheduler = try makeScheduler(named: name, config: sd15)
            #expect(scheduler.name == name)
        }
    }

    @Test func unknownSchedulerNameIsAnErrorNamingIt() {
        #expect(throws: SchedulerError.unknownScheduler("DPM++ 2M Karras")) {
            try makeScheduler(named: "DPM++ 2M Karras", config: SchedulerConfig())
        }
        #expect(SchedulerError.unknownScheduler("Foo").description.contains("'Foo'"))
    }

    /// diffusers writes `-Infinity` for the default lambda_min_clipped; strict JSON rejects it.
    @Test func decodesPythonInfinity() throws {
        let dpm = try config(#"{"lambda_min_clipped": -Infinity, "algorithm_type": "dpmsolver++"}"#)
        #expect(dpm.lambdaMinClipped == -.infinity)
        var scheduler = try makeScheduler(named: "DPMSolverMultistepScheduler", config: dpm)
        try scheduler.setTimesteps(10)
        #expect(scheduler.timesteps.first == 999)
    }

    /// Missing keys take each class's own defaults: DDPM's are linear betas 1e-4...0.02 and
    /// "leading" spacing; LCM's are scaled-linear 0.00085...0.012 and 50 original steps.
    @Test func missingKeysTakeClassDefaults() throws {
        var ddpm = try makeScheduler(named: "DDPMScheduler", config: SchedulerConfig())
        try ddpm.setTimesteps(10)
        #expect(ddpm.timesteps == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0])
        var lcm = try makeScheduler(named: "LCMScheduler", config: SchedulerConfig())
        try lcm.setTimesteps(4)
        #expect(lcm.timesteps == [999, 759, 499, 259])
    }

    @Test(arguments: [
        ("EulerDiscreteScheduler", #"{"use_karras_sigmas": true, "use_beta_sigmas": true}"#,
         "use_karras_sigmas/use_exponential_sigmas/use_beta_sigmas"),
        ("DEISMultistepScheduler", #"{"use_flow_sigmas": true}"#, "use_flow_sigmas"),
        ("DPMSolverMultistepScheduler", #"{"use_flow_sigmas": true}"#, "use_flow_sigmas"),
        ("DPMSolverMultistepScheduler", #"{"algorithm_type": "dpmsolver"}"#, "final_sigmas_type"),
        ("DPMSolverMultistepScheduler", #"{"algorithm_type": "sde-dpmsolver", "solver_order": 3, "final_sigmas_type": "sigma_min"}"#, "solver_order"),
        ("DPMSolverMultistepScheduler", #"{"variance_type": "learned_range"}"#, "variance_type"),
        ("DPMSolverMultistepScheduler", #"{"prediction_type": "flow_prediction"}"#, "prediction_type"),
        ("DPMSolverSinglestepScheduler", #"{"algorithm_type": "sde-dpmsolver"}"#, "algorithm_type"),
        ("DPMSolverSinglestepScheduler", #"{"algorithm_type": "dpmsolver", "thresholding": true, "final_sigmas_type": "sigma_min"}"#, "thresholding"),
        ("DEISMultistepScheduler", #"{"solver_order": 4}"#, "solver_order"),
        ("UniPCMultistepScheduler", #"{"solver_type": "dpm"}"#, "solver_type"),
        ("UniPCMultistepScheduler", #"{"use_dynamic_shifting": true}"#, "use_dynamic_shifting"),
        ("UniPCMultistepScheduler", #"{"predict_x0": false}"#, "predict_x0"),
        ("DDPMScheduler", #"{"variance_type": "learned"}"#, "variance_type"),
        ("KDPM2DiscreteScheduler", #"{"prediction_type": "sample"}"#, "prediction_type"),
        ("PNDMScheduler", #"{"prediction_type": "sample"}"#, "prediction_type"),
        ("LMSDiscreteScheduler", #"{"beta_schedule": "sigmoid"}"#, "beta_schedule"),
    ])
    func unsupportedOptionIsAnErrorNamingIt(_ name: String, _ json: String, _ option: String) throws {
        let config = try config(json)
        do {
            _ = try makeScheduler(named: name, config: config)
            Issue.record("\(name) accepted \(json)")
        } catch let error as SchedulerError {
            guard case .unsupportedOption(let scheduler, let named, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(scheduler == name)
            #expect(named == option)
            #expect(error.description.contains(option))
        }
    }

    /// A class without the option ignores it, as from_config drops keys the class lacks.
    @Test func optionsOfOtherClassesAreIgnored() throws {
        let zeroSnr = try config(#"{"rescale_betas_zero_snr": true, "use_karras_sigmas": true}"#)
        var withOption = try makeScheduler(named: "LMSDiscreteScheduler", config: zeroSnr)
        var without = try makeScheduler(named: "LMSDiscreteScheduler", config: config(#"{"use_karras_sigmas": true}"#))
        try withOption.setTimesteps(8)
        try without.setTimesteps(8)
        #expect(withOption.sigmas == without.sigmas)
        // Euler a has no sigma-spacing options: karras is ignored, zero SNR is not.
        var ancestral = try makeScheduler(named: "EulerAncestralDiscreteScheduler", config: zeroSnr)
        var plain = try makeScheduler(
            named: "EulerAncestralDiscreteScheduler", config: config(#"{"rescale_betas_zero_snr": true}"#))
        try ancestral.setTimesteps(8)
        try plain.setTimesteps(8)
        #expect(ancestral.sigmas == plain.sigmas)
        // The zero-SNR terminal sigma, sqrt((1 - 2^-24) / 2^-24).
        #expect(ancestral.sigmas[0] == Float((Double(1 << 24) - 1).squareRoot()))
    }

    @Test func invalidStepCountsAreErrors() throws {
        let plms = try config(#"{"skip_prk_steps": true}"#)
        for name in schedulerNames {
            var scheduler = try makeScheduler(named: name, config: plms)
            #expect(throws: SchedulerError.invalidStepCount(scheduler: name, steps: 0)) { try scheduler.setTimesteps(0) }
        }
        var lcm = try makeScheduler(named: "LCMScheduler", config: SchedulerConfig())
        #expect(throws: SchedulerError.invalidStepCount(scheduler: "LCMScheduler", steps: 51)) { try lcm.setTimesteps(51) }
        // The Runge-Kutta warm-up takes the last four timesteps.
        var prk = try makeScheduler(named: "PNDMScheduler", config: SchedulerConfig())
        #expect(throws: SchedulerError.invalidStepCount(scheduler: "PNDMScheduler", steps: 3)) { try prk.setTimesteps(3) }
    }

    /// squaredcos_cap_v2 with karras sigmas puts several of the first timesteps at 998; diffusers
    /// then starts at the second and runs off the end of its sigmas (IndexError).
    @Test func repeatedFirstTimestepIsAnError() throws {
        let cosine = try config(#"{"beta_schedule": "squaredcos_cap_v2", "use_karras_sigmas": true}"#)
        var scheduler = try makeScheduler(named: "DPMSolverMultistepScheduler", config: cosine)
        #expect(throws: SchedulerError.repeatedFirstTimestep(scheduler: "DPMSolverMultistepScheduler", steps: 12, timestep: 998)) {
            try scheduler.setTimesteps(12)
        }
    }

    /// A one-step PLMS schedule is the single timestep, as numpy's slicing makes it.
    @Test func pndmRunsOneStep() throws {
        var pndm = try makeScheduler(named: "PNDMScheduler", config: config(#"{"skip_prk_steps": true}"#))
        try pndm.setTimesteps(1)
        #expect(pndm.timesteps == [0])
    }
}
