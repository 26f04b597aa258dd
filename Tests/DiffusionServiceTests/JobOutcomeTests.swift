import DiffusionCore
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// What a request that passed validation ends as: the response carries the job's status and
/// error, and a job that does not succeed leaves nothing in the asset store.
@Suite struct JobOutcomeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The golden canny request with previews, so that a stopped job has previews to take back.
    func request() throws -> GenerationRequest {
        let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
        var body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        body["numInferenceSteps"] = 4
        body["intermediateImages"] = true
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    @Test func stoppedJobIsCanceledAndStoresNothing() throws {
        let assets = try TemporaryFolder()
        let service = GenerationService(models: Self.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets.url)
        var steps = 0
        let result = try service.generate(try request()) { _ in
            steps += 1
            return steps == 3 ? .stop : .proceed
        }
        #expect(steps == 3)
        #expect(result.response.job.status == .canceled && result.response.job.error == nil)
        #expect(result.images.isEmpty && result.assets.isEmpty && result.response.job.metadata.assetIds.isEmpty)
        // The previews of the steps that ran were taken back; the inputs were never stored.
        #expect(assets.contents().isEmpty, "\(assets.contents())")
    }

    /// A UNet whose weights file is cut short passes validation (the files are there) and fails
    /// when loaded: the job's response says failure with a 500 naming the file.
    @Test func failureAfterValidationIsTheJobsFailure() throws {
        let models = try TemporaryFolder()
        try FileManager.default.copyItem(
            at: Self.root.appendingPathComponent("Tests/Fixtures/Weights/tiny-sd15"), to: models.url.appendingPathComponent("tiny-sd15"))
        for folder in ["controlnets", "ip-adapters"] {
            try FileManager.default.createSymbolicLink(
                at: models.url.appendingPathComponent(folder), withDestinationURL: Self.root.appendingPathComponent("Tests/Fixtures/Weights/\(folder)"))
        }
        let weights = models.url.appendingPathComponent("tiny-sd15/unet/diffusion_pytorch_model.safetensors")
        try Data(try Data(contentsOf: weights).prefix(1000)).write(to: weights)

        let assets = try TemporaryFolder()
        let result = try GenerationService(models: models.url, assets: assets.url).generate(try request())
        #expect(result.response.job.status == .failure && result.response.job.progress == 1)
        let error = try #require(result.response.job.error)
        #expect(error.status == 500)
        #expect(error.message.contains("diffusion_pytorch_model.safetensors"), "\(error.message)")
        #expect(result.images.isEmpty && result.response.job.metadata.assetIds.isEmpty)
        #expect(assets.contents().isEmpty, "\(assets.contents())")
    }
}
