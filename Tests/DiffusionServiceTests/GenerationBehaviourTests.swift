import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// What a generation promises beyond matching diffusers: sample i depends only on seed + i,
/// previews are stored when asked, hidden results stay out of the listing, progress is reported.
@Suite struct GenerationBehaviourTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The canny example with its seed and sample count replaced and `extra` merged in.
    func request(seed: UInt64, samples: Int, _ extra: [String: Any] = [:]) throws -> GenerationRequest {
        let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
        var body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        body["seed"] = String(seed)
        body["numSamples"] = samples
        body["numInferenceSteps"] = 3
        body.merge(extra) { $1 }
        return try GenerationRequest(json: JSONSerialization.data(withJSONObject: body))
    }

    func withPipeline<T>(_ body: (GenerationService) throws -> T) throws -> T {
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("behaviour-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: assets) }
        return try body(GenerationService(models: Self.root.appendingPathComponent("Tests/Fixtures/Weights"), assets: assets))
    }

    @Test func sampleIDependsOnlyOnSeedPlusI() throws {
        try withPipeline { pipeline in
            let three = try pipeline.generate(try request(seed: 41, samples: 3)).images
            let third = try pipeline.generate(try request(seed: 43, samples: 1)).images
            let differing = zip(three[2].pixels, third[0].pixels).filter { $0 != $1 }.count
            let worst = zip(three[2].pixels, third[0].pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(differing == 0, "\(differing) values differ, by up to \(worst)")
            #expect(three[0].pixels != three[1].pixels)
        }
    }

    /// With detection on, the ControlNet sees the canny map of the control image resized to the
    /// output size: the same images as sending that map with detection off.
    @Test func detectionFeedsTheCannyMapOfTheResizedImage() throws {
        try withPipeline { pipeline in
            let url = Self.root.appendingPathComponent("Tests/Goldens/pipeline/cases/sd15_canny_pndm/request.json")
            let body = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            let control = try DataURL.decodeImage(body["controlImage"] as! String)
            let map = CannyDetector().detect(try control.resized(width: 64, height: 64, filter: .lanczos))
            let mapURL = "data:image/png;base64," + (try PNG.encode(map)).base64EncodedString()
            let detected = try pipeline.generate(try request(seed: 9, samples: 1, ["disableModalityDetection": false]))
            let given = try pipeline.generate(try request(seed: 9, samples: 1, ["controlImage": mapURL]))
            let plain = try pipeline.generate(try request(seed: 9, samples: 1))
            #expect(detected.images == given.images)
            #expect(detected.images != plain.images)
        }
    }

    @Test func previewsAreStoredHiddenAfterEveryStep() throws {
        try withPipeline { pipeline in
            var reports: [GenerationProgress] = []
            let result = try pipeline.generate(try request(seed: 5, samples: 2, ["intermediateImages": true, "hideResults": true])) {
                reports.append($0)
                return .proceed
            }
            let sidecars = try FileManager.default.contentsOfDirectory(atPath: pipeline.assets.url.path).filter { $0.hasSuffix(".json") }
            let assets = try sidecars.map { try pipeline.assets.asset(String($0.dropLast(5))) }
            let previews = assets.filter { $0.kind == .intermediate }
            // PNDM runs 4 timesteps for 3 steps; one report per step of each sample, and one preview.
            let steps = try #require(reports.last?.steps)
            #expect(steps == 4 && reports.count == 2 * steps)
            #expect(previews.count == reports.count)
            #expect(Set(previews.compactMap(\.metadata.step)) == Set(1...steps))
            #expect(previews.allSatisfy { $0.hidden })
            #expect(result.assets.allSatisfy { $0.hidden })
            let listed = try pipeline.assets.list()
            #expect(listed.allSatisfy { $0.kind == .uploaded })
            #expect(reports.last?.imagesDone == 1 && reports.last?.step == steps)
            #expect(result.assets.map(\.metadata.seed) == ["5", "6"])
        }
    }
}
