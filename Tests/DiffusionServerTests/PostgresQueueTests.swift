import DiffusionService
import Foundation
import Logging
import PostgresNIO
import Testing

/// The shared queue on a real PostgreSQL (.ci/run starts one and sets DIFFUSE_TEST_POSTGRES_URL):
/// two `diffuse serve` processes on one queue and one asset folder.
@Suite(.serialized) struct PostgresQueueTests {
    static let adminURL = ProcessInfo.processInfo.environment["DIFFUSE_TEST_POSTGRES_URL"]

    /// A database of its own for one test, dropped at the end.
    final class Database: @unchecked Sendable {
        let url: String
        let name = "diffuse_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        private let admin: PostgresClient
        private let client: PostgresClient
        private let tasks: [Task<Void, Never>]

        init(adminURL: String) async throws {
            let components = try #require(URLComponents(string: adminURL))
            func configuration(_ database: String) throws -> PostgresClient.Configuration {
                .init(host: try #require(components.host), port: components.port ?? 5432, username: try #require(components.user),
                      password: components.password, database: database, tls: .disable)
            }
            admin = PostgresClient(configuration: try configuration(String(components.path.dropFirst())), backgroundLogger: Logger(label: "pg"))
            client = PostgresClient(configuration: try configuration(name), backgroundLogger: Logger(label: "pg"))
            tasks = [Task { [admin] in await admin.run() }, Task { [client] in await client.run() }]
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
            var url = components
            url.path = "/" + name
            self.url = try #require(url.string)
        }

        /// Every job's id, status, attempts and worker.
        func jobs() async throws -> [(id: String, status: String, attempts: Int, worker: String?)] {
            var rows: [(String, String, Int, String?)] = []
            for try await row in try await client.query("SELECT id, status, attempts, worker FROM jobs") {
                rows.append(try row.decode((String, String, Int, String?).self))
            }
            return rows.map { (id: $0.0, status: $0.1, attempts: $0.2, worker: $0.3) }
        }

        func close() async throws {
            tasks[1].cancel()
            await tasks[1].value
            try await admin.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
            tasks[0].cancel()
            await tasks[0].value
        }
    }

    /// A fresh database on the server of DIFFUSE_TEST_POSTGRES_URL; nil, with a message, without one.
    private static func database() async throws -> Database? {
        guard let adminURL else {
            print("PostgresQueueTests skipped: DIFFUSE_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL and sets it)")
            return nil
        }
        return try await Database(adminURL: adminURL)
    }

    /// Two processes sharing a queue, each with its own port, the same assets and API key.
    private func startWorkers(_ database: Database, assets: URL, lease: Int = 60) throws -> [ServeProcess] {
        try (0..<2).map { _ in
            try ServeProcess(
                arguments: ["--models", Fixtures.models.path, "--assets", assets.path, "--queue", database.url, "--lease", "\(lease)"],
                environment: ["DIFFUSE_API_KEYS": Fixtures.credentials])
        }
    }

    /// The output assets (kind `image`) in `folder`, by id.
    private func outputs(in folder: TemporaryFolder) throws -> [String] {
        try folder.assetIds.filter { id in
            let sidecar = try Data(contentsOf: folder.url.appendingPathComponent("\(id).json"))
            return (try JSONSerialization.jsonObject(with: sidecar) as? [String: Any])?["kind"] as? String == "image"
        }.sorted()
    }

    /// 20 jobs submitted at once to two processes: each runs once and succeeds, none is lost
    /// or run twice, each image is stored once, and both processes took jobs.
    @Test func twentyJobsOnTwoProcessesFinishOnceEach() async throws {
        guard let database = try await Self.database() else { return }
        let folder = try TemporaryFolder()
        let servers = try startWorkers(database, assets: folder.url)
        let clients = servers.map { HTTPClient(port: $0.port, credentials: Fixtures.credentials) }
        let body = try Fixtures.request(steps: 3)
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for i in 0..<20 {
                group.addTask { (try await clients[i % 2].post("/generate/controlnet-ip-adapter", json: body).json["job"] as? [String: Any])?["jobId"] as? String }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(Set(ids).count == 20)
        for (i, id) in ids.enumerated() {
            // Either host answers for any job.
            let job = try await clients[(i + 1) % 2].waitForJob(id, timeout: 600)
            #expect(job["status"] as? String == "success")
            #expect((job["metadata"] as? [String: Any])?["assetIds"] as? [String] == [AssetStore.jobAssetId(jobId: id, role: .output, index: 0)])
        }
        let jobs = try await database.jobs()
        #expect(jobs.count == 20 && jobs.allSatisfy { $0.status == "success" && $0.attempts == 1 })
        let pids = Set(jobs.compactMap { $0.worker?.split(separator: ":").dropFirst().first.map(String.init) })
        #expect(pids == Set(servers.map { String($0.pid) }), "both processes claim jobs")
        #expect(try outputs(in: folder) == ids.map { AssetStore.jobAssetId(jobId: $0, role: .output, index: 0) }.sorted())
        servers.forEach { $0.stop() }
        try await database.close()
    }

    /// kill -9 the process running a job: after its lease expires the other claims the job
    /// and finishes it, once, its image stored once.
    @Test func aJobWhoseWorkerIsKilledIsFinishedByTheOther() async throws {
        guard let database = try await Self.database() else { return }
        let folder = try TemporaryFolder()
        let servers = try startWorkers(database, assets: folder.url, lease: 2)
        let clients = servers.map { HTTPClient(port: $0.port, credentials: Fixtures.credentials) }
        let reply = try await clients[0].post("/generate/controlnet-ip-adapter", json: try Fixtures.request(steps: 150))
        let id = try #require((reply.json["job"] as? [String: Any])?["jobId"] as? String)
        // Wait until it has made progress, then kill whoever runs it.
        var worker: String?
        while worker == nil {
            let job = try await clients[0].get("/jobs/\(id)").json["job"] as? [String: Any]
            if (job?["progress"] as? Double ?? 0) > 0.05 { worker = try await database.jobs().first?.worker }
            try await Task.sleep(for: .milliseconds(20))
        }
        let killed = try #require(servers.firstIndex { worker?.contains(":\($0.pid):") == true })
        servers[killed].kill9()
        let survivor = 1 - killed
        let job = try await clients[survivor].waitForJob(id, timeout: 600)
        #expect(job["status"] as? String == "success")
        let rows = try await database.jobs()
        #expect(rows.count == 1 && rows[0].attempts == 2)
        #expect(rows[0].worker?.contains(":\(servers[survivor].pid):") == true)
        #expect(try outputs(in: folder) == [AssetStore.jobAssetId(jobId: id, role: .output, index: 0)])
        servers[survivor].stop()
        try await database.close()
    }
}
