import DiffusionFormats
import DiffusionService
import Foundation
import Testing

/// What the server relies on in the service layer: a staged request runs later to the same
/// images, and a job stores its images once however often it runs.
@Suite(.serialized) struct StagingTests {
    /// Staging stores the data-URL images and names them by id, pins the drawn seed, and the
    /// staged request alone then makes the request's images.
    @Test func aStagedRequestNamesItsImagesByIdAndPinsTheSeed() throws {
        let folder = try TemporaryFolder()
        let service = GenerationService(models: Fixtures.models, assets: folder.url)
        var body = try Fixtures.request("sd15_canny_pndm")
        body["seed"] = nil
        body["numInferenceSteps"] = 2
        let staged = try service.stage(try GenerationRequest(json: try JSONSerialization.data(withJSONObject: body)))
        #expect(Set(staged.storedAssetIds) == folder.assetIds)
        #expect(staged.storedAssetIds.count == 2)
        #expect(staged.request.controlImage == nil && staged.request.ipAdapterImages == nil)
        #expect(staged.request.imageId == staged.inference.imageId)
        #expect(staged.request.ipAdapterImageIds == staged.inference.ipAdapterImageIds)
        #expect(staged.request.seed == staged.inference.seed)
        // Through JSON, as the queue keeps it: twice the same images, and nothing new stored as input.
        let stored = try GenerationRequest(json: try JSONEncoder().encode(staged.request))
        let first = try service.generate(stored), second = try service.generate(stored)
        #expect(first.response.job.status == .success && first.images == second.images)
        #expect(first.response.inference.seed == staged.inference.seed)
    }

    /// Run twice under one job id (a worker lost, the job claimed again), a job leaves one
    /// asset per image, under the job's ids.
    @Test func aJobRunTwiceStoresItsImagesOnce() throws {
        let folder = try TemporaryFolder()
        let service = GenerationService(models: Fixtures.models, assets: folder.url)
        let staged = try service.stage(try GenerationRequest(json: try JSONSerialization.data(withJSONObject: try Fixtures.request(steps: 2, samples: 2))))
        let inputs = folder.assetIds
        let jobId = "job_0123456789abcdef"
        let runs = try (0..<2).map { _ in try service.generate(staged.request, jobId: jobId) }
        let expected = ["asset_0123456789abcdef-o0", "asset_0123456789abcdef-o1"]
        #expect(runs.allSatisfy { $0.response.job.metadata.assetIds == expected })
        #expect(folder.assetIds == inputs.union(expected))
        #expect(runs[0].images == runs[1].images)
        #expect(try service.assets.image(expected[1]) == runs[1].images[1])
    }

    @Test func jobAssetIdsAreValidAssetIds() {
        let id = AssetStore.jobAssetId(jobId: "job_" + String(repeating: "f", count: 32), role: .preview, index: 3)
        #expect(id == "asset_" + String(repeating: "f", count: 32) + "-p3")
        #expect(AssetStore.isValidId(id))
    }
}
