import DiffusionServer
import Foundation
import Testing

/// The caps: body size (413), queue depth (429), per-job time limit.
@Suite(.serialized) struct LimitTests {
    @Test func oversizedBodiesAre413AndStoreNothing() async throws {
        let folder = try TemporaryFolder()
        var limits = ServerConfiguration.Limits()
        limits.maxBodyBytes = 1 << 20
        let server = try await TestServer(assets: folder.url, limits: limits)
        var body = try Fixtures.request("sd15_canny_pndm")
        body["prompt"] = String(repeating: "a", count: 1 << 20)
        let reply = try await server.client.post("/generate/controlnet-ip-adapter", json: body)
        #expect(reply.status == 413)
        #expect((reply.json["error"] as? [String: Any])?["status"] as? Int == 413)
        #expect(folder.assetIds.isEmpty)
        try await server.stop()
    }

    /// With one job running and `maxQueuedJobs` waiting, the next submission is a 429 that
    /// stores nothing.
    @Test func aFullQueueAnswers429() async throws {
        let folder = try TemporaryFolder()
        var limits = ServerConfiguration.Limits()
        limits.maxQueuedJobs = 1
        let server = try await TestServer(assets: folder.url, limits: limits)
        let long = try Fixtures.longRequest()
        let first = try #require((try await server.client.post("/generate/controlnet-ip-adapter", json: long)).json["job"] as? [String: Any])
        let firstId = try #require(first["jobId"] as? String)
        while (try await server.client.get("/jobs/\(firstId)").json["job"] as? [String: Any])?["status"] as? String != "in-progress" {
            try await Task.sleep(for: .milliseconds(20))
        }
        let second = try await server.client.post("/generate/controlnet-ip-adapter", json: long)
        #expect(second.status == 200)
        let stored = folder.assetIds
        let third = try await server.client.post("/generate/controlnet-ip-adapter", json: long)
        #expect(third.status == 429)
        #expect(folder.assetIds == stored)
        for reply in [first, second.json["job"] as? [String: Any] ?? [:]] {
            _ = try await server.client.post("/jobs/\(reply["jobId"] as? String ?? "")/cancel", json: [String: Any]())
        }
        try await server.stop()
    }

    @Test func aJobOverItsTimeLimitFails() async throws {
        let folder = try TemporaryFolder()
        var limits = ServerConfiguration.Limits()
        limits.jobTimeLimit = 0.5
        let server = try await TestServer(assets: folder.url, limits: limits)
        let id = try #require((try await server.client.post("/generate/controlnet-ip-adapter", json: try Fixtures.longRequest()))
            .json["job"] as? [String: Any])["jobId"] as? String
        let job = try await server.client.waitForJob(try #require(id), timeout: 60)
        #expect(job["status"] as? String == "failure")
        #expect(((job["error"] as? [String: Any])?["message"] as? String)?.contains("time limit") == true)
        try await server.stop()
    }
}
