import DiffusionServer
import Foundation
import Logging

/// The package's root and its committed fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The tiny SD1.5 model, its ControlNets and IP-Adapters.
    static let models = root.appendingPathComponent("Tests/Fixtures/Weights")
    static let cases = root.appendingPathComponent("Tests/Goldens/pipeline/cases")

    /// The request body of golden case `name` (Tests/Goldens/pipeline/generate.py made its images).
    static func request(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: cases.appendingPathComponent("\(name)/request.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// A request of `steps` steps and `samples` 64x64 samples: with the most steps (150) and
    /// samples, long enough to cancel or kill mid-job.
    static func request(steps: Int, samples: Int = 1) throws -> [String: Any] {
        var body = try request("sd15_canny_pndm")
        body["numInferenceSteps"] = steps
        body["numSamples"] = samples
        return body
    }

    /// The longest tiny job: 150 steps of 4 samples (tens of seconds).
    static func longRequest() throws -> [String: Any] { try request(steps: 150, samples: 4) }

    static let key = "test-key", secret = "s3cret"
    static var credentials: String { "\(key):\(secret)" }
}

/// A fresh folder under the temporary directory, removed when the value goes away.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("DiffusionServerTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The asset ids whose sidecars are in the folder.
    var assetIds: Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return Set(names.filter { $0.hasPrefix("asset_") && $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
    }
}

/// `diffuse serve` in this process on a free loopback port, with the SQLite queue.
final class TestServer: @unchecked Sendable {
    let server: GenerationServer
    let client: HTTPClient
    private let task: Task<Void, Error>

    init(assets: URL, keys: [String: String] = [Fixtures.key: Fixtures.secret], workers: Int = 1,
         limits: ServerConfiguration.Limits = ServerConfiguration.Limits()) async throws {
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, models: Fixtures.models, assets: assets, workers: workers, apiKeys: APIKeys(keys),
            limits: limits)
        let server = try await GenerationServer(configuration: configuration, logger: logger)
        self.server = server
        task = Task { try await server.run() }
        let deadline = Date().addingTimeInterval(30)
        while server.port == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard let port = server.port else { throw URLError(.cannotConnectToHost) }
        client = HTTPClient(port: port, credentials: keys.first.map { "\($0.key):\($0.value)" })
    }

    /// Stops as SIGTERM would: no more claims, running jobs back in the queue.
    func stop() async throws {
        await server.shutdown()
        try await task.value
    }
}
