import Foundation

/// What `diffuse serve` runs: where it listens, its folders, its queue, its workers and limits.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); `Server.run`'s `onListening` reports it.
    public var port: Int
    public var models: URL
    /// The asset store; the embedded queue's database lives in it too.
    public var assets: URL
    /// `postgres://user:password@host:port/database` to share the queue between hosts; nil for
    /// the embedded SQLite queue.
    public var queueURL: String?
    /// Jobs run at once by this process.
    public var workers: Int
    public var apiKeys: APIKeys
    public var limits: Limits

    /// The caps that keep one client from taking the service down.
    public struct Limits: Sendable {
        /// Largest request body accepted (413 above).
        public var maxBodyBytes = 50 << 20
        /// Queued jobs accepted before `POST /generate/...` answers 429.
        public var maxQueuedJobs = 100
        /// Seconds a job may run before it is stopped as a failure.
        public var jobTimeLimit: Double = 3600
        /// Seconds a claimed job stays its worker's without a heartbeat; after that another
        /// worker claims it again.
        public var leaseSeconds: Double = 60
        /// Seconds between two looks at an empty queue.
        public var pollInterval: Double = 0.25

        public init() {}
    }

    public init(
        host: String = "127.0.0.1", port: Int = 8080, models: URL, assets: URL, queueURL: String? = nil, workers: Int = 1,
        apiKeys: APIKeys = APIKeys(), limits: Limits = Limits()
    ) {
        self.host = host
        self.port = port
        self.models = models
        self.assets = assets
        self.queueURL = queueURL
        self.workers = workers
        self.apiKeys = apiKeys
        self.limits = limits
    }

    /// Whether the server is reachable from this machine only.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
