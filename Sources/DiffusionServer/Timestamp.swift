import Foundation

/// Dates as the API writes them: ISO 8601, UTC, milliseconds (`2023-02-03T11:19:41.579Z`).
enum Timestamp {
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
