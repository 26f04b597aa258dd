import DiffusionService
import Foundation
import Logging

/// The persistent job queue, one interface over two back ends: SQLite in the asset folder
/// (one host, no other server) or PostgreSQL (several hosts). Docs/SERVER.md describes the
/// lifecycle.
///
/// A worker claims a job with a lease that its progress reports and heartbeats extend; a job
/// whose lease expires (its worker died) is claimed again by another worker. Every write of a
/// worker is conditioned on still holding the job, so a job finishes once.
public final class JobQueue: Sendable {
    let database: any SQLDatabase
    private var now: String { database.dialect.now }

    init(database: any SQLDatabase) {
        self.database = database
    }

    /// The queue of `url` (`postgres://...`), or the embedded one in `assets` when nil; its
    /// table is created if needed.
    public static func open(url: String?, assets: URL, logger: Logger) async throws -> JobQueue {
        let database: any SQLDatabase
        if let url {
            database = try PostgresJobDatabase(url: url, logger: logger)
        } else {
            database = try await SQLiteJobDatabase.open(assets.appendingPathComponent("jobs.sqlite"))
        }
        let queue = JobQueue(database: database)
        do {
            try await queue.prepare()
        } catch {
            try? await database.close()
            throw QueueError("cannot open the job queue \(url ?? "in \(assets.path)"): \(error)")
        }
        return queue
    }

    /// Creates the table; on a single host, makes the jobs a previous run left in progress
    /// claimable at once.
    private func prepare() async throws {
        for statement in database.dialect.schema { try await database.query(statement, []) }
        if database.dialect.singleHost {
            try await database.query("UPDATE jobs SET lease_expires = 0 WHERE status = 'in-progress'", [])
        }
    }

    public func close() async throws {
        try await database.close()
    }

    /// Queues a job running `request` (a staged request's JSON), unless `maxQueued` jobs are
    /// already waiting: then nil.
    public func enqueue(id: String, request: Data, maxQueued: Int) async throws -> JobRecord? {
        let rows = try await database.query(
            """
            INSERT INTO jobs (id, status, progress, request, created_at, updated_at)
            SELECT $1, 'queued', 0, $2, $3, $3 WHERE (SELECT count(*) FROM jobs WHERE status = 'queued') < $4
            RETURNING \(JobRecord.columns)
            """,
            [.text(id), .text(String(decoding: request, as: UTF8.self)), .text(Timestamp.now()), .integer(maxQueued)])
        return try rows.first.map(JobRecord.init)
    }

    /// The job `id`, nil when there is none.
    public func job(_ id: String) async throws -> JobRecord? {
        try await database.query("SELECT \(JobRecord.columns) FROM jobs WHERE id = $1", [.text(id)]).first.map(JobRecord.init)
    }

    /// The oldest job waiting (or whose worker's lease has expired), now `worker`'s for
    /// `lease` seconds; nil when there is none.
    public func claim(worker: String, lease: Double) async throws -> JobRecord? {
        let time = Timestamp.now()
        // A job canceled while its worker was lost: nobody will report it stopped.
        try await database.query(
            """
            UPDATE jobs SET status = 'canceled', finished_at = $1, updated_at = $1, lease_expires = NULL
            WHERE status = 'in-progress' AND cancel_requested = 1 AND lease_expires < \(now)
            """, [.text(time)])
        let rows = try await database.query(
            """
            UPDATE jobs SET status = 'in-progress', worker = $1, lease_expires = \(now) + $2, started_at = $3,
                updated_at = $3, attempts = attempts + 1, progress = 0, previews = '[]'
            WHERE id = (SELECT id FROM jobs WHERE status = 'queued' OR (status = 'in-progress' AND lease_expires < \(now))
                        ORDER BY seq LIMIT 1 \(database.dialect.claimLock))
            RETURNING \(JobRecord.columns)
            """,
            [.text(worker), .double(lease), .text(time)])
        return try rows.first.map(JobRecord.init)
    }

    /// What a worker learns when it reports.
    public enum Control: Sendable, Equatable {
        /// Go on.
        case proceed
        /// A client canceled the job.
        case cancel
        /// The job is no longer this worker's (its lease expired and another claimed it).
        case lost
    }

    /// Records `progress` and `previews` (each when given) of job `id` and extends `worker`'s
    /// lease by `lease` seconds; with neither, it is a heartbeat.
    public func report(
        _ id: String, worker: String, progress: Double? = nil, previews: [JobRecord.Preview]? = nil, lease: Double
    ) async throws -> Control {
        let rows = try await database.query(
            """
            UPDATE jobs SET progress = COALESCE($3, progress), previews = COALESCE($4, previews),
                lease_expires = \(now) + $5, updated_at = $6
            WHERE id = $1 AND worker = $2 AND status = 'in-progress'
            RETURNING cancel_requested
            """,
            [.text(id), .text(worker), progress.map(SQLValue.double) ?? .null, try previews.map { .text(try Self.json($0)) } ?? .null,
             .double(lease), .text(Timestamp.now())])
        guard let row = rows.first else { return .lost }
        return row["cancel_requested"]?.integer == 1 ? .cancel : .proceed
    }

    /// Ends job `id` with `status` (success, failure or canceled), if it is still `worker`'s;
    /// returns whether it was. A job that did not succeed keeps the progress it had made, and
    /// lists no preview (the generation removed them).
    @discardableResult
    public func finish(
        _ id: String, worker: String, status: JobRecord.Status, assetIds: [String] = [], error: GenerationError? = nil
    ) async throws -> Bool {
        let time = Timestamp.now()
        let rows = try await database.query(
            """
            UPDATE jobs SET status = $3, progress = CASE WHEN $3 = 'success' THEN 1 ELSE progress END, asset_ids = $4,
                previews = CASE WHEN $3 = 'success' THEN previews ELSE '[]' END,
                error = $5, updated_at = $6, finished_at = $6, lease_expires = NULL
            WHERE id = $1 AND worker = $2 AND status = 'in-progress'
            RETURNING id
            """,
            [.text(id), .text(worker), .text(status.rawValue), .text(try Self.json(assetIds)),
             try error.map { .text(try Self.json($0.detail)) } ?? .null, .text(time)])
        return !rows.isEmpty
    }

    /// Puts job `id` back in the queue (its worker is shutting down), or ends it as canceled
    /// when a client asked for that meanwhile.
    public func requeue(_ id: String, worker: String) async throws {
        let time = Timestamp.now()
        try await database.query(
            """
            UPDATE jobs SET status = CASE WHEN cancel_requested = 1 THEN 'canceled' ELSE 'queued' END,
                finished_at = CASE WHEN cancel_requested = 1 THEN $3 ELSE NULL END,
                worker = NULL, lease_expires = NULL, progress = 0, previews = '[]', started_at = NULL, updated_at = $3
            WHERE id = $1 AND worker = $2 AND status = 'in-progress'
            """,
            [.text(id), .text(worker), .text(time)])
    }

    /// Cancels job `id`: a queued job at once, a running one at its worker's next report.
    /// Returns the job (unchanged when it had already ended), nil when there is none.
    public func cancel(_ id: String) async throws -> JobRecord? {
        let rows = try await database.query(
            """
            UPDATE jobs SET cancel_requested = 1,
                status = CASE WHEN status = 'queued' THEN 'canceled' ELSE status END,
                finished_at = CASE WHEN status = 'queued' THEN $2 ELSE finished_at END, updated_at = $2
            WHERE id = $1 AND status IN ('queued', 'in-progress')
            RETURNING \(JobRecord.columns)
            """,
            [.text(id), .text(Timestamp.now())])
        if let row = rows.first { return try JobRecord(row: row) }
        return try await job(id)
    }

    /// How many jobs wait to be claimed.
    public func queuedCount() async throws -> Int {
        try await database.query("SELECT count(*) AS n FROM jobs WHERE status = 'queued'", []).first?["n"]?.integer ?? 0
    }

    /// How many jobs have each status.
    public func counts() async throws -> [String: Int] {
        let rows = try await database.query("SELECT status, count(*) AS n FROM jobs GROUP BY status", [])
        return Dictionary(rows.compactMap { row in row["status"]?.string.map { ($0, row["n"]?.integer ?? 0) } },
                          uniquingKeysWith: +)
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
