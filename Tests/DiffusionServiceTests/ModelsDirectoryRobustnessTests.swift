import DiffusionPipeline
import DiffusionSchedulers
import DiffusionService
import Foundation
import Testing

/// Config files as diffusers writes them, and hostile ones, through the models directory.
@Suite struct ModelsDirectoryRobustnessTests {
    func failure(_ body: () throws -> Any) -> GenerationError? {
        do { _ = try body() } catch let error as GenerationError { return error } catch { Issue.record("\(error)") }
        return nil
    }

    /// diffusers writes `"lambda_min_clipped": -Infinity` in DPM-Solver configs.
    @Test func schedulerConfigWithInfinityLiteralsResolves() throws {
        let environment = try TestEnvironment()
        try environment.folder.write(
            #"{"_class_name": "DPMSolverMultistepScheduler", "num_train_timesteps": 1000, "lambda_min_clipped": -Infinity}"#,
            at: "models/sd15/scheduler/scheduler_config.json")
        #expect(try environment.resolve(adding: "").scheduler == .dpmSolverMultistep)
    }

    @Test func fifoInPlaceOfAConfigIsAnErrorNotAWait() throws {
        let environment = try TestEnvironment()
        let index = environment.folder.url.appendingPathComponent("models/sd15/model_index.json")
        try FileManager.default.removeItem(at: index)
        #expect(mkfifo(index.path, 0o600) == 0)
        let error = failure { try environment.models.model("sd15") }
        #expect(error?.status == 500 && error?.message.contains("not a regular file") == true, "\(String(describing: error))")
    }

    /// A config the scheduler refuses is the models directory's fault; a step count it cannot
    /// schedule is the request's.
    @Test func schedulerFaultsAreNamed() throws {
        let environment = try TestEnvironment()
        try environment.folder.write(
            #"{"_class_name": "PNDMScheduler", "num_train_timesteps": 1000, "beta_start": 0.02, "beta_end": 0.01}"#,
            at: "models/sd15/scheduler/scheduler_config.json")
        let config = failure { try environment.resolve(adding: "") }
        #expect(config?.status == 500 && config?.message.contains("beta_start") == true, "\(String(describing: config))")
        try environment.folder.write(
            #"{"_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "steps_offset": 999}"#,
            at: "models/sd15/scheduler/scheduler_config.json")
        let steps = failure { try environment.resolve(adding: #""numInferenceSteps": 100"#) }
        #expect(steps?.status == 400 && steps?.field == "numInferenceSteps", "\(String(describing: steps))")
    }

    @Test func unknownFieldWarningsAreBounded() throws {
        let environment = try TestEnvironment()
        let fields = (0..<1000).map { #""extra\#($0)": 1"# }.joined(separator: ", ")
        let resolved = try environment.resolve(adding: fields)
        #expect(resolved.warnings.count < 30)
        #expect(resolved.warnings.contains { $0.contains("more unknown fields") })
    }
}
