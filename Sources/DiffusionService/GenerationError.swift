import DiffusionDetectors
import DiffusionFormats
import Foundation

/// A failed generation as the endpoint reports it (Docs/SPEC.md §4): an HTTP-like status, a message
/// for the user and, when one request field is to blame, its name.
///
/// Encodes as `{"error": {"status": 400, "message": "...", "field": "..."}}`.
public struct GenerationError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// 400 (the request is wrong), 404 (it names something that does not exist) or 500.
    public let status: Int
    public let message: String
    /// The request field at fault (`"width"`, `"ipAdapterScales"`), nil when none is.
    public let field: String?

    public init(status: Int, message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    /// Status 400: the request is malformed or out of range.
    public static func badRequest(_ message: String, field: String? = nil) -> GenerationError {
        GenerationError(status: 400, message: message, field: field)
    }

    /// Status 404: the request names a model, ControlNet, IP-Adapter or asset that is not there.
    public static func notFound(_ message: String, field: String? = nil) -> GenerationError {
        GenerationError(status: 404, message: message, field: field)
    }

    /// Status 500: the runtime or its models directory failed, not the request.
    public static func internalError(_ message: String, field: String? = nil) -> GenerationError {
        GenerationError(status: 500, message: message, field: field)
    }

    /// Any error thrown while serving a request, as the endpoint reports it: bad data URLs,
    /// undecodable images and unavailable detectors are the request's fault (400, naming `field`),
    /// anything else not already a `GenerationError` is a 500.
    public init(_ error: Error, field: String? = nil) {
        switch error {
        case let error as GenerationError:
            self = error
        case let error as DataURLError:
            self = .badRequest(error.description, field: field)
        case let error as ImageDecodingError:
            self = .badRequest(error.description, field: field)
        case let error as DetectionError:
            self = .badRequest(error.description, field: field)
        default:
            self = .internalError(String(describing: error), field: field)
        }
    }

    public var description: String {
        "\(status): \(message)" + (field.map { " (field \($0))" } ?? "")
    }

    public var errorDescription: String? { description }
}

extension GenerationError: Codable {
    /// The error's fields as one JSON object, the value of the `error` key (and of a failed
    /// job's `error`).
    public struct Detail: Codable, Equatable, Sendable {
        public var status: Int
        public var message: String
        public var field: String?
    }

    public var detail: Detail { Detail(status: status, message: message, field: field) }

    private enum Keys: String, CodingKey { case error }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(detail, forKey: .error)
    }

    public init(from decoder: Decoder) throws {
        let detail = try decoder.container(keyedBy: Keys.self).decode(Detail.self, forKey: .error)
        self.init(status: detail.status, message: detail.message, field: detail.field)
    }
}
