import Foundation
import Testing

/// A bounded load on loopback: 200 concurrent requests (status polls and submissions) while
/// a job runs, then the throughput of the submitted jobs. Docs/SERVER.md records its figures.
@Suite(.serialized) struct LoadTests {
    @Test func twoHundredConcurrentPollsAndSubmissionsWhileAJobRuns() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let client = server.client
        let running = try #require((try await client.post("/generate/controlnet-ip-adapter", json: try Fixtures.longRequest()))
            .json["job"] as? [String: Any])["jobId"] as? String
        let runningId = try #require(running)
        while (try await client.get("/jobs/\(runningId)").json["job"] as? [String: Any])?["status"] as? String != "in-progress" {
            try await Task.sleep(for: .milliseconds(20))
        }
        let small = try Fixtures.request(steps: 3)
        let submissions = 20, polls = 180
        // Each request: whether it is a poll, its status, its seconds, and the job it queued.
        let results = try await withThrowingTaskGroup(of: (Bool, Int, Double, String?).self) { group in
            for i in 0..<(submissions + polls) {
                group.addTask {
                    let start = Date()
                    if i % 10 == 0 {
                        let reply = try await client.post("/generate/controlnet-ip-adapter", json: small)
                        return (false, reply.status, Date().timeIntervalSince(start), (reply.json["job"] as? [String: Any])?["jobId"] as? String)
                    }
                    let reply = try await client.get("/jobs/\(runningId)")
                    return (true, reply.status, Date().timeIntervalSince(start), nil)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.1 == 200 })
        let pollTimes = results.filter(\.0).map(\.2).sorted()
        #expect(pollTimes.count == polls)
        let percentile = { (p: Double) in pollTimes[min(pollTimes.count - 1, Int(Double(pollTimes.count) * p))] * 1000 }
        // A poll is one indexed row read. The bound is loose because CI runs other suites'
        // generations beside this one on 2 cores; a server blocked by the running job would
        // answer only when the job ends, tens of seconds later.
        #expect(percentile(0.95) < 10_000)
        _ = try await client.post("/jobs/\(runningId)/cancel", json: [String: Any]())

        let started = Date()
        let queued = results.compactMap(\.3)
        #expect(queued.count == submissions)
        for id in queued {
            #expect(try await client.waitForJob(id)["status"] as? String == "success")
        }
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "load: GET /jobs latency over %d concurrent polls: p50 %.1f ms, p95 %.1f ms, max %.1f ms; "
                     + "%d jobs (64x64, 3 steps, 1 sample, tiny SD1.5) in %.1f s: %.0f jobs/hour",
                     polls, percentile(0.5), percentile(0.95), pollTimes.last.map { $0 * 1000 } ?? 0, submissions, seconds,
                     Double(submissions) / seconds * 3600))
        try await server.stop()
    }
}
