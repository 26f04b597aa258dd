import DiffusionPipeline
import DiffusionService
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `diffuse serve`: the HTTP endpoint, its job queue and its workers in one process.
///
/// ```swift
/// let server = try await GenerationServer(configuration: ServerConfiguration(models: models, assets: assets), logger: logger)
/// try await server.run()            // until SIGINT/SIGTERM or shutdown()
/// ```
public final class GenerationServer: Sendable {
    public let configuration: ServerConfiguration
    public let queue: JobQueue
    private let group: ServiceGroup
    private let listening: Locked<Int?>

    /// Opens the queue and prepares the routes and `configuration.workers` workers, which share
    /// one generation service (one model store: models stay loaded between jobs).
    ///
    /// - Throws: `QueueError` when the queue cannot be opened; `APIKeys.Error` when no API key
    ///   is configured and the host is not loopback (the server would be open to the network).
    public init(configuration: ServerConfiguration, logger: Logger) async throws {
        guard !configuration.apiKeys.isEmpty || configuration.isLoopback else {
            throw APIKeys.Error(message: "no API key configured (--api-keys FILE or DIFFUSE_API_KEYS): "
                + "refusing to serve \(configuration.host) without authentication; only loopback may be open")
        }
        if configuration.apiKeys.isEmpty {
            logger.warning("no API key configured: serving \(configuration.host) WITHOUT authentication (loopback only)")
        } else {
            logger.info("HTTP Basic authentication with \(configuration.apiKeys.count) API key(s)")
        }
        self.configuration = configuration
        let queue = try await JobQueue.open(url: configuration.queueURL, assets: configuration.assets, logger: logger)
        self.queue = queue
        let service = GenerationService(models: configuration.models, assets: configuration.assets)
        let running = RunningJobs()
        let router = Router()
        APIRoutes(service: service, queue: queue, running: running, configuration: configuration).register(on: router)
        let listening = Locked<Int?>(nil)
        self.listening = listening
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "diffuse"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                listening.withLock { $0 = port }
                logger.info("listening on http://\(configuration.host):\(port) (open it in a browser for the web page), queue \(configuration.queueURL == nil ? "SQLite in \(configuration.assets.path)" : "PostgreSQL")")
            },
            logger: logger)
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let workers = (0..<max(1, configuration.workers)).map {
            JobWorker(name: "\(host):\(pid):\($0)", queue: queue, service: service, limits: configuration.limits, running: running,
                      logger: logger)
        }
        // Stopped in reverse order: the workers first (they put their jobs back), then the server.
        group = ServiceGroup(configuration: .init(
            services: [app as any Service] + workers.map { $0 as any Service }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// Serves until SIGINT or SIGTERM (or `shutdown()`): then stops claiming, puts the running
    /// jobs back in the queue, and closes the queue.
    public func run() async throws {
        do {
            try await group.run()
        } catch {
            try? await queue.close()
            throw error
        }
        try await queue.close()
    }

    /// Starts a graceful shutdown; `run()` returns once it is done.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// The port the server listens on, once it does (the configured one may be 0: any free port).
    public var port: Int? { listening.current }
}
