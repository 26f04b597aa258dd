import Foundation
import SQLiteNIO

/// The embedded queue's database: one SQLite file in the asset folder, one connection (SQLite
/// serializes writers anyway), so `diffuse serve` needs no other server.
final class SQLiteJobDatabase: SQLDatabase {
    let dialect = SQLDialect(
        now: "(unixepoch('subsec'))", claimLock: "",
        schema: [
            """
            CREATE TABLE IF NOT EXISTS jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
                progress REAL NOT NULL DEFAULT 0, request TEXT NOT NULL, created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, worker TEXT, lease_expires REAL,
                cancel_requested INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
                asset_ids TEXT NOT NULL DEFAULT '[]', previews TEXT NOT NULL DEFAULT '[]', error TEXT)
            """,
            "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq)",
        ],
        singleHost: true)
    private let connection: SQLiteConnection

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database file at `url`.
    static func open(_ url: URL) async throws -> SQLiteJobDatabase {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let connection = try await SQLiteConnection.open(storage: .file(path: url.path))
        let database = SQLiteJobDatabase(connection: connection)
        // WAL: readers (status polls) do not wait for the writer (progress reports).
        try await database.query("PRAGMA journal_mode=WAL", [])
        return database
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        // SQLite's `?NNN` is PostgreSQL's `$NNN`: the same numbered parameter.
        let statement = sql.replacingOccurrences(of: "$", with: "?")
        let rows = try await connection.query(statement, binds.map(Self.data))
        return rows.map { row in
            Dictionary(row.columns.map { ($0.name, Self.value($0.data)) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func close() async throws {
        try await connection.close()
    }

    private static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .text(let text): .text(text)
        case .double(let number): .float(number)
        case .integer(let number): .integer(.init(number))
        case .null: .null
        }
    }

    private static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .text(let text): .text(text)
        case .float(let number): .double(number)
        case .integer(let number): .integer(Int(number))
        case .blob, .null: .null
        }
    }
}
