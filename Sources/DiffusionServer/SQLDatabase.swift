import Foundation

/// A value bound into or read from a statement, in the few types the job table uses.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case double(Double)
    case integer(Int)
    case null

    var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var double: Double? {
        switch self {
        case .double(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    var integer: Int? {
        switch self {
        case .integer(let value): value
        case .double(let value): Int(value)
        default: nil
        }
    }
}

/// One result row, by column name.
typealias SQLRow = [String: SQLValue]

/// What differs between the queue's back ends: the database's own words for the same statements.
struct SQLDialect: Sendable {
    /// The current time in seconds since 1970, read from the database's clock (so the hosts
    /// sharing a queue agree on when a lease expires whatever their own clocks say).
    let now: String
    /// Appended to the claim's inner select: PostgreSQL's `FOR UPDATE SKIP LOCKED` lets two
    /// workers claim at once without waiting for or taking each other's job.
    let claimLock: String
    /// The job table's creation.
    let schema: [String]
    /// Whether only this process uses the queue, so a job left in progress was this process's
    /// own, lost when it stopped: it is claimed again at once instead of after its lease.
    let singleHost: Bool
}

/// A connection to the database holding the job table. Statements write parameters as `$1`,
/// `$2`, ... (each back end translates if needed).
protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    func close() async throws
}
