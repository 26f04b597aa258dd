import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// The response JSON (Docs/SPEC.md §4): the schema's shape and field names.
@Suite struct ResponseTests {
    /// Encodes `value` and reads it back as a JSON object.
    private func jsonObject<T: Encodable>(_ value: T) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
    }

    private func response(error: GenerationError? = nil) throws -> (GenerationResponse, TestEnvironment) {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: #""seed": "18446744073709551615", "numSamples": 2, "foo": 1"#)
        let response = GenerationResponse(
            request: resolved, assetIds: ["asset_b", "asset_a"],
            inputAssets: .init(controlImage: environment.controlAsset, ipAdapterImages: [environment.styleAsset]),
            assets: environment.assets, startedAt: Date(timeIntervalSince1970: 1_675_423_181.579), error: error)
        return (response, environment)
    }

    @Test func successShape() throws {
        let (response, environment) = try response()
        let object = try jsonObject(response)
        #expect(object.keys.sorted() == ["inference", "job", "warnings"])
        #expect(object["warnings"] as? [String] == ["unknown field 'foo' ignored"])

        let job = try #require(object["job"] as? [String: Any])
        #expect(job.keys.sorted() == ["createdAt", "jobId", "jobType", "metadata", "progress", "status", "statusHistory", "updatedAt"])
        #expect(job["status"] as? String == "success" && job["progress"] as? Double == 1 && job["jobType"] as? String == "inference")
        #expect((job["jobId"] as? String)?.hasPrefix("job_") == true)
        #expect(job["createdAt"] as? String == "2023-02-03T11:19:41.579Z")
        #expect((job["metadata"] as? [String: Any])?["assetIds"] as? [String] == ["asset_b", "asset_a"])
        let history = try #require(job["statusHistory"] as? [[String: Any]])
        #expect(history.map { $0["status"] as? String } == ["in-progress", "success"])

        let inference = try #require(object["inference"] as? [String: Any])
        #expect(inference["type"] as? String == "controlnet_ip_adapter")
        #expect(inference["seed"] as? String == "18446744073709551615")
        #expect(inference["scheduler"] as? String == "PNDMScheduler")
        // The schema's enum of bare names, not the `canny:1.0` form.
        #expect(inference["modality"] as? String == "canny")
        #expect(inference["numSamples"] as? Int == 2 && inference["numInferenceSteps"] as? Int == 30)
        #expect(inference["guidance"] as? Double == 7.5 && inference["width"] as? Int == 512 && inference["height"] as? Int == 512)
        #expect(inference["controlStart"] as? Double == 0 && inference["controlEnd"] as? Double == 1)
        #expect(inference["ipAdapterType"] as? String == "style" && inference["ipAdapterScale"] as? Double == 0.9)
        #expect(inference["ipAdapterScales"] as? [Double] == [0.9])
        #expect(inference["imageId"] as? String == environment.controlAsset)
        #expect(inference["image"] as? String == environment.assets.imageURL(environment.controlAsset).absoluteString)
        #expect(inference["ipAdapterImageIds"] as? [String] == [environment.styleAsset])
        #expect(inference["ipAdapterImageId"] as? String == environment.styleAsset)
        #expect(inference["disableModalityDetection"] as? Bool == true)
        #expect(inference["hideResults"] as? Bool == false && inference["intermediateImages"] as? Bool == false)
        #expect(inference["negativePrompt"] == nil, "absent stays absent")
    }

    /// Every key of `inference` is a property of the schema's response `inference` object.
    @Test func inferenceUsesTheSchemasNames() throws {
        let schemaNames: Set<String> = [
            "baseModelId", "concepts", "controlEnd", "controlStart", "disableModalityDetection", "guidance", "height",
            "hideResults", "image", "imageId", "intermediateImages", "ipAdapterImage", "ipAdapterImageId",
            "ipAdapterImageIds", "ipAdapterImages", "ipAdapterScale", "ipAdapterScales", "ipAdapterType", "modality",
            "modelEpoch", "negativePrompt", "negativePromptStrength", "numInferenceSteps", "numSamples", "prompt",
            "scheduler", "seed", "type", "width",
        ]
        let inference = try #require(try jsonObject(response().0)["inference"] as? [String: Any])
        #expect(Set(inference.keys).subtracting(schemaNames).isEmpty)
        // The schema's required inference fields.
        #expect(Set(["image", "imageId", "modality", "prompt", "type"]).isSubset(of: inference.keys))
    }

    @Test func failureCarriesTheError() throws {
        let job = try #require(try jsonObject(response(error: .internalError("out of memory")).0)["job"] as? [String: Any])
        #expect(job["status"] as? String == "failure" && job["progress"] as? Double == 1)
        let detail = try #require(job["error"] as? [String: Any])
        #expect(detail["status"] as? Int == 500 && detail["message"] as? String == "out of memory" && detail["field"] == nil)
    }

    @Test func errorJSON() throws {
        let object = try jsonObject(GenerationError.badRequest("width must be ...", field: "width"))
        #expect(object.keys.sorted() == ["error"])
        let detail = try #require(object["error"] as? [String: Any])
        #expect(detail["status"] as? Int == 400 && detail["message"] as? String == "width must be ..." && detail["field"] as? String == "width")
        let withoutField = try #require(try jsonObject(GenerationError.notFound("gone"))["error"] as? [String: Any])
        #expect(withoutField.keys.sorted() == ["message", "status"])
        let decoded = try JSONDecoder().decode(GenerationError.self, from: JSONEncoder().encode(GenerationError.notFound("x", field: "imageId")))
        #expect(decoded == .notFound("x", field: "imageId"))
    }

    @Test func responseRoundTrips() throws {
        let (response, _) = try response()
        #expect(try JSONDecoder().decode(GenerationResponse.self, from: JSONEncoder().encode(response)) == response)
    }
}
