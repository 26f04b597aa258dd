import Foundation

/// A model was called with inputs that do not fit it (a shape, a missing SDXL condition, a
/// residual count); the message says which input and what was expected.
public struct ModelInputError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
    public var errorDescription: String? { message }
}
