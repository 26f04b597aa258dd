import DiffusionService
import Foundation

/// One job as the queue holds it: the staged request (images as asset ids, seed pinned) and
/// where it stands.
public struct JobRecord: Sendable, Equatable {
    public typealias Status = GenerationResponse.Job.Status

    /// The latest preview of one sample (`intermediateImages`).
    public struct Preview: Codable, Sendable, Equatable {
        public var assetId: String
        public var outputIndex: Int
        /// The denoising step (1-based) after which it was taken.
        public var step: Int
    }

    public var id: String
    public var status: Status
    /// 0...1, updated after every denoising step.
    public var progress: Double
    /// The staged request's JSON.
    public var request: Data
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The worker running (or last to run) it: `host:pid:index`.
    public var worker: String?
    /// How many times a worker claimed it (more than once when a worker was lost).
    public var attempts: Int
    public var assetIds: [String]
    public var previews: [Preview]
    public var error: GenerationError.Detail?

    /// Columns as the queue's statements return them.
    static let columns = "id, status, progress, request, created_at, updated_at, started_at, finished_at, worker, attempts, asset_ids, previews, error"

    init(row: SQLRow) throws {
        func text(_ name: String) throws -> String {
            guard let value = row[name]?.string else { throw QueueError("the job table's column \(name) is missing or not text") }
            return value
        }
        func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(try text(name).utf8))
        }
        id = try text("id")
        guard let status = Status(rawValue: try text("status")) else { throw QueueError("job \(id) has an unknown status") }
        self.status = status
        progress = row["progress"]?.double ?? 0
        request = Data(try text("request").utf8)
        createdAt = try text("created_at")
        updatedAt = try text("updated_at")
        startedAt = row["started_at"]?.string
        finishedAt = row["finished_at"]?.string
        worker = row["worker"]?.string
        attempts = row["attempts"]?.integer ?? 0
        assetIds = try json("asset_ids", as: [String].self)
        previews = try json("previews", as: [Preview].self)
        error = try row["error"]?.string.map { try JSONDecoder().decode(GenerationError.Detail.self, from: Data($0.utf8)) }
    }

    /// Whether the job has ended (its status will not change again).
    public var isFinished: Bool { [.success, .failure, .canceled].contains(status) }
}

/// The queue's database cannot be used, or holds something it should not.
public struct QueueError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
