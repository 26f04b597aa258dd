import DiffusionCore
import DiffusionFormats
import DiffusionServer
import DiffusionService
import Foundation
import Testing

/// The endpoint over HTTP with the embedded (SQLite) queue and the tiny models: submit, poll,
/// download; bad bodies; credentials; cancel; limits; a restart with jobs queued.
@Suite(.serialized) struct GenerationRouteTests {
    /// Submit, poll to success, download: the images are diffusers' (the same bar as the
    /// library's end-to-end test, Tests/DiffusionServiceTests/EndToEndTests.swift: within 6
    /// levels at any pixel, 0.5 on average, for float32 on both sides).
    @Test func submitPollDownloadMatchesDiffusers() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let submitted = try await server.client.post("/generate/controlnet-ip-adapter", json: try Fixtures.request("sd15_canny_pndm"))
        #expect(submitted.status == 200)
        let job = try #require(submitted.json["job"] as? [String: Any])
        #expect(job["status"] as? String == "queued")
        #expect(job["progress"] as? Double == 0)
        #expect((submitted.json["inference"] as? [String: Any])?["seed"] as? String == "42")
        let id = try #require(job["jobId"] as? String)

        var progress: [Double] = []
        let finished = try await server.client.waitForJob(id) { progress.append($0["progress"] as? Double ?? -1) }
        #expect(finished["status"] as? String == "success")
        #expect(finished["progress"] as? Double == 1)
        // Progress only grows, within 0...1.
        #expect(progress.allSatisfy { (0...1).contains($0) } && progress == progress.sorted())
        let history = (finished["statusHistory"] as? [[String: Any]])?.compactMap { $0["status"] as? String }
        #expect(history == ["queued", "in-progress", "success"])

        let assetIds = try #require((finished["metadata"] as? [String: Any])?["assetIds"] as? [String])
        #expect(assetIds.count == 2)
        for (i, assetId) in assetIds.enumerated() {
            let details = try await server.client.get("/assets/\(assetId)")
            let asset = try #require(details.json["asset"] as? [String: Any])
            #expect(asset["outputIndex"] as? Int == i)
            #expect((asset["metadata"] as? [String: Any])?["seed"] as? String == String(42 + i))
            let url = try #require(asset["url"] as? String)
            let download = try await server.client.get(try #require(URL(string: url)?.path))
            #expect(download.status == 200 && download.headers["content-type"] == "image/png")
            let image = try PNG.decode(download.body)
            let expected = try PNG.decode(Data(contentsOf: Fixtures.cases.appendingPathComponent("sd15_canny_pndm/expected_\(i).png")))
            #expect(image.width == expected.width && image.height == expected.height)
            let differences = zip(image.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }
            #expect((differences.max() ?? 99) <= 6)
            #expect(Double(differences.reduce(0, +)) / Double(max(1, differences.count)) <= 0.5)
        }
        try await server.stop()
    }

    /// A bad body is a 400 (or 404 for a missing model) with the error JSON that
    /// `diffuse generate` prints for it, and nothing is queued or stored.
    @Test func badBodiesAreRefusedWithTheCLIErrorAndLeaveNothing() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let good = try Fixtures.request("sd15_canny_pndm")
        var cases: [Data] = [Data("not json".utf8), Data("[1, 2]".utf8)]
        for change in [["width": 65], ["prompt": 3], ["modelId": "no-such-model"], ["controlImage": "data:image/png;base64,AAAA"],
                       ["numSamples": 0], ["scheduler": "NoSuchScheduler"]] as [[String: Any]] {
            cases.append(try JSONSerialization.data(withJSONObject: good.merging(change) { $1 }))
        }
        let reference = GenerationService(models: Fixtures.models, assets: folder.url.appendingPathComponent("unused"))
        for body in cases {
            let reply = try await server.client.send("POST", "/generate/controlnet-ip-adapter", body: body)
            // What the command line answers for the same body.
            let expected: GenerationError
            do {
                _ = try reference.stage(try GenerationRequest(json: body))
                Issue.record("the body should be refused: \(String(decoding: body, as: UTF8.self).prefix(80))")
                continue
            } catch {
                expected = GenerationError(error)
            }
            #expect(reply.status == expected.status)
            #expect(try JSONDecoder().decode(GenerationError.self, from: reply.body) == expected)
        }
        #expect(folder.assetIds.isEmpty)
        let health = try await server.client.get("/health")
        #expect((health.json["jobs"] as? [String: Int])?.isEmpty == true)
        try await server.stop()
    }

    /// Without valid credentials every route but /health and /openapi.json is a 401 that does nothing.
    @Test func requestsWithoutValidCredentialsAre401() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let body = try JSONSerialization.data(withJSONObject: try Fixtures.request("sd15_canny_pndm"))
        let wrong: [String?] = [
            nil, "Basic " + Data("test-key:wrong".utf8).base64EncodedString(), "Basic " + Data("other:s3cret".utf8).base64EncodedString(),
            "Basic !!!", "Bearer s3cret", "Basic " + Data("test-key".utf8).base64EncodedString(),
        ]
        let anonymous = server.client.with(credentials: nil)
        for authorization in wrong {
            for (method, path, payload) in [("POST", "/generate/controlnet-ip-adapter", body), ("GET", "/jobs/job_x", nil),
                                            ("GET", "/assets", nil), ("POST", "/assets", Data("{}".utf8))] as [(String, String, Data?)] {
                let reply = try await anonymous.send(method, path, body: payload, authorization: authorization)
                #expect(reply.status == 401, "\(method) \(path) with \(authorization ?? "no credentials")")
                #expect((reply.json["error"] as? [String: Any])?["status"] as? Int == 401)
                #expect(reply.headers["www-authenticate"]?.hasPrefix("Basic") == true)
            }
        }
        #expect(folder.assetIds.isEmpty)
        #expect(try await anonymous.get("/health").status == 200)
        #expect(try await anonymous.get("/openapi.json").json["openapi"] as? String == "3.0.3")
        #expect(try await server.client.get("/jobs/job_x").status == 404)
        try await server.stop()
    }

    /// A running job stops within a step of its cancel and stores nothing (its previews go
    /// too); a queued one is canceled at once and never runs.
    @Test func canceledJobsStopAndStoreNothing() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        var long = try Fixtures.longRequest()
        long["intermediateImages"] = true
        let running = try #require((try await server.client.post("/generate/controlnet-ip-adapter", json: long)).json["job"] as? [String: Any])
        let waiting = try #require((try await server.client.post("/generate/controlnet-ip-adapter", json: long)).json["job"] as? [String: Any])
        let runningId = try #require(running["jobId"] as? String), waitingId = try #require(waiting["jobId"] as? String)
        let inputs = folder.assetIds

        let canceledWaiting = try await server.client.post("/jobs/\(waitingId)/cancel", json: [String: Any]())
        #expect((canceledWaiting.json["job"] as? [String: Any])?["status"] as? String == "canceled")
        // Let the first job take a few steps, then cancel it.
        var seen = 0.0
        while seen < 0.02 {
            seen = (try await server.client.get("/jobs/\(runningId)").json["job"] as? [String: Any])?["progress"] as? Double ?? 0
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = try await server.client.post("/jobs/\(runningId)/cancel", json: [String: Any]())
        let ended = try await server.client.waitForJob(runningId, timeout: 60)
        #expect(ended["status"] as? String == "canceled")
        #expect((ended["progress"] as? Double ?? 1) < 0.5)
        #expect((ended["metadata"] as? [String: Any])?["assetIds"] as? [String] == [])
        #expect((ended["metadata"] as? [String: Any])?["output"] == nil)
        let waitingEnd = try await server.client.get("/jobs/\(waitingId)").json["job"] as? [String: Any]
        #expect(waitingEnd?["status"] as? String == "canceled")
        #expect((waitingEnd?["statusHistory"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == ["queued", "canceled"])
        // Only the inputs stored at submission remain: no output, no preview.
        #expect(folder.assetIds == inputs)
        try await server.stop()
    }

    /// Stopped with jobs queued (and one running), a server restarted on the same folder
    /// finishes them all.
    @Test func jobsQueuedAtShutdownFinishAfterARestart() async throws {
        let folder = try TemporaryFolder()
        var server = try await TestServer(assets: folder.url)
        var ids: [String] = []
        for steps in [60, 3, 3] {
            let reply = try await server.client.post("/generate/controlnet-ip-adapter", json: try Fixtures.request(steps: steps))
            ids.append(try #require((reply.json["job"] as? [String: Any])?["jobId"] as? String))
        }
        while (try await server.client.get("/jobs/\(ids[0])").json["job"] as? [String: Any])?["status"] as? String != "in-progress" {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await server.stop()

        server = try await TestServer(assets: folder.url)
        for id in ids {
            #expect(try await server.client.get("/jobs/\(id)").status == 200)
        }
        for id in ids {
            let job = try await server.client.waitForJob(id)
            #expect(job["status"] as? String == "success")
            #expect(((job["metadata"] as? [String: Any])?["assetIds"] as? [String])?.count == 1)
        }
        try await server.stop()
    }

    /// With `intermediateImages`, the running job lists each sample's latest preview, an asset
    /// that can be downloaded; hidden, so not listed among the assets.
    @Test func runningJobListsEachSamplesLatestPreview() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        var body = try Fixtures.request("sd15_canny_pndm")
        body["intermediateImages"] = true
        body["numInferenceSteps"] = 30
        let id = try #require((try await server.client.post("/generate/controlnet-ip-adapter", json: body)).json["job"] as? [String: Any])["jobId"] as? String
        var previewSets: [[[String: Any]]] = []
        let job = try await server.client.waitForJob(try #require(id)) { job in
            if let previews = ((job["metadata"] as? [String: Any])?["output"] as? [String: Any])?["intermediateImages"] as? [[String: Any]] {
                previewSets.append(previews)
            }
        }
        #expect(job["status"] as? String == "success")
        #expect(!previewSets.isEmpty)
        // At most one preview per sample, the latest: its step only grows.
        for set in previewSets {
            let samples = set.compactMap { $0["outputIndex"] as? Int }
            #expect(samples == Array(Set(samples)).sorted())
        }
        let last = try #require(previewSets.last)
        let preview = try #require(last.first?["url"] as? String)
        let download = try await server.client.get(try #require(URL(string: preview)?.path))
        #expect(download.status == 200)
        #expect(try PNG.decode(download.body).width == 64)
        let listed = try await server.client.get("/assets?pageSize=100").json["assets"] as? [[String: Any]] ?? []
        #expect(!listed.contains { ($0["id"] as? String) == last.first?["assetId"] as? String })
        try await server.stop()
    }
}
