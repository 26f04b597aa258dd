import Foundation

/// The API keys and secrets that HTTP Basic authentication accepts (`Authorization: Basic
/// base64(key:secret)`), as the endpoint's clients send them.
public struct APIKeys: Sendable {
    private let secrets: [String: String]

    /// Keys from `key:secret` pairs.
    public init(_ pairs: [String: String] = [:]) {
        secrets = pairs
    }

    public var isEmpty: Bool { secrets.isEmpty }
    public var count: Int { secrets.count }

    /// Reads `key:secret` pairs, one a line or separated by commas; blank lines and lines
    /// starting with `#` are skipped.
    ///
    /// - Throws: `APIKeys.Error` naming `source` and the line of a pair without a `:`.
    public init(parsing text: String, source: String) throws {
        var pairs: [String: String] = [:]
        let entries = text.split(whereSeparator: { $0 == "\n" || $0 == "," }).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        for (index, entry) in entries.enumerated() where !entry.isEmpty && !entry.hasPrefix("#") {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex, entry.index(after: colon) != entry.endIndex else {
                throw Error(message: "\(source): entry \(index + 1) is not 'key:secret'")
            }
            pairs[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
        }
        self.init(pairs)
    }

    /// The keys of `file` when given, else of the environment variable `DIFFUSE_API_KEYS`, else none.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> APIKeys {
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw Error(message: "cannot read the API keys file \(file): \(error.localizedDescription)")
            }
            return try APIKeys(parsing: text, source: file)
        }
        if let value = environment["DIFFUSE_API_KEYS"] {
            return try APIKeys(parsing: value, source: "DIFFUSE_API_KEYS")
        }
        return APIKeys()
    }

    /// Whether `authorization` (an `Authorization` header's value) carries a known key and its secret.
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let credentials = String(data: decoded, encoding: .utf8),
              let colon = credentials.firstIndex(of: ":")
        else { return false }
        let key = String(credentials[..<colon]), secret = String(credentials[credentials.index(after: colon)...])
        guard let expected = secrets[key] else { return false }
        return Self.constantTimeEqual(Array(expected.utf8), Array(secret.utf8))
    }

    /// Compares without stopping at the first difference, so the time taken tells nothing of the secret.
    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
