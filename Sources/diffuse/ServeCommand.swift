import ArgumentParser
import DiffusionServer
import Foundation
import Logging

/// `diffuse serve`: the endpoint over HTTP, with its jobs and assets (Docs/SERVER.md).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve POST /generate/controlnet-ip-adapter, the jobs and the assets over HTTP.",
        discussion: """
            Jobs wait in a persistent queue: SQLite in the asset folder by default (one host, \
            nothing else to run), or PostgreSQL with --queue postgres://user:password@host:port/db, \
            which several 'diffuse serve' processes on several hosts share (give them one shared \
            --assets folder). Clients authenticate with HTTP Basic: an API key and its secret, \
            'key:secret' lines in --api-keys FILE or in DIFFUSE_API_KEYS (comma separated). Without \
            keys the server only listens on loopback. SIGINT or SIGTERM stop it gracefully: no new \
            job is claimed and the running ones go back to the queue. A web page at / (open \
            http://127.0.0.1:8080/ in a browser) generates through the same routes.
            """)

    @Option(help: "The address to listen on (a non-loopback address needs API keys).")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8080

    @Option(help: ArgumentHelp("The models directory (SPEC §1; default: the package's Weights/).", valueName: "dir"))
    var models: String = PackagePaths.defaultFolder("Weights")

    @Option(help: ArgumentHelp("The asset store, shared by every host of a queue (default: the package's Assets/).", valueName: "dir"))
    var assets: String = PackagePaths.defaultFolder("Assets")

    @Option(help: ArgumentHelp("A PostgreSQL queue shared between hosts (default: SQLite in the asset folder).",
                               valueName: "postgres://..."))
    var queue: String?

    @Option(help: "Jobs this process runs at once (each holds its activations in memory; the models are shared).")
    var workers = 1

    @Option(name: .customLong("api-keys"), help: ArgumentHelp("A file of 'key:secret' lines (default: DIFFUSE_API_KEYS).", valueName: "file"))
    var apiKeys: String?

    @Option(name: .customLong("max-queued"), help: "Queued jobs accepted before submissions get 429.")
    var maxQueued = 100

    @Option(name: .customLong("time-limit"), help: "Seconds a job may run before it fails.")
    var timeLimit: Double = 3600

    @Option(help: "Seconds a worker holds a job without a heartbeat before another may claim it.")
    var lease: Double = 60

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard maxQueued >= 1 else { throw ValidationError("--max-queued must be at least 1") }
        guard timeLimit > 0, lease >= 1 else { throw ValidationError("--time-limit must be positive and --lease at least 1") }
    }

    func run() throws {
        var limits = ServerConfiguration.Limits()
        limits.maxQueuedJobs = maxQueued
        limits.jobTimeLimit = timeLimit
        limits.leaseSeconds = lease
        let configuration = ServerConfiguration(
            host: host, port: port, models: URL(fileURLWithPath: models, isDirectory: true),
            assets: URL(fileURLWithPath: assets, isDirectory: true), queueURL: queue, workers: workers,
            apiKeys: try APIKeys.load(file: apiKeys), limits: limits)
        // The root command is synchronous: serve on the concurrency pool while this thread waits.
        let failure = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let server = try await GenerationServer(configuration: configuration, logger: Logger(label: "diffuse"))
                try await server.run()
            } catch {
                failure.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw CommandFailure("cannot serve: \(error)") }
    }
}

/// The error `diffuse serve` stopped with, handed from its task to the waiting thread (the
/// semaphore orders the write before the read).
private final class ServeOutcome: @unchecked Sendable {
    var error: Error?
}
