import Foundation
import Logging
import PostgresNIO

/// The shared queue's database: PostgreSQL, reached by every `diffuse serve --queue postgres://...`
/// process, which claim jobs with `FOR UPDATE SKIP LOCKED`.
final class PostgresJobDatabase: SQLDatabase {
    let dialect = SQLDialect(
        now: "extract(epoch from clock_timestamp())::double precision", claimLock: "FOR UPDATE SKIP LOCKED",
        schema: [
            """
            CREATE TABLE IF NOT EXISTS jobs (
                seq BIGSERIAL, id TEXT PRIMARY KEY, status TEXT NOT NULL,
                progress DOUBLE PRECISION NOT NULL DEFAULT 0, request TEXT NOT NULL, created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, worker TEXT,
                lease_expires DOUBLE PRECISION, cancel_requested BIGINT NOT NULL DEFAULT 0,
                attempts BIGINT NOT NULL DEFAULT 0, asset_ids TEXT NOT NULL DEFAULT '[]',
                previews TEXT NOT NULL DEFAULT '[]', error TEXT)
            """,
            "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq)",
        ],
        singleHost: false)
    private let client: PostgresClient
    private let runner: Task<Void, Never>

    /// Connects to `url` (`postgres://user:password@host:port/database`).
    ///
    /// - Throws: `QueueError` naming what is wrong with the URL.
    init(url: String, logger: Logger) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user
        else {
            throw QueueError("--queue: '\(url)' is not postgres://user[:password]@host[:port]/database")
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        let configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database, tls: .disable)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        runner = Task { [client] in await client.run() }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .text(let text): bindings.append(text)
            case .double(let number): bindings.append(number)
            case .integer(let number): bindings.append(number)
            case .null: bindings.appendNull()
            }
        }
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).collect()
        return try rows.map { row in
            var values: SQLRow = [:]
            for cell in row { values[cell.columnName] = try Self.value(cell) }
            return values
        }
    }

    func close() async throws {
        runner.cancel()
        await runner.value
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .float8, .float4: return .double(try cell.decode(Double.self))
        case .int8, .int4, .int2: return .integer(try cell.decode(Int.self))
        default: return .text(try cell.decode(String.self))
        }
    }
}
