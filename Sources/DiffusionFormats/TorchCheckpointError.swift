import Foundation

/// Why a PyTorch checkpoint could not be read: the file, the tensor when one is at fault, and
/// what was found (an unsupported global names itself: `os.system`).
public struct TorchCheckpointError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let file: String
    public let tensor: String?
    public let reason: String

    public init(file: String, tensor: String? = nil, _ reason: String) {
        self.file = file
        self.tensor = tensor
        self.reason = reason
    }

    public var description: String {
        if let tensor { return "\(file): tensor \"\(tensor)\": \(reason)" }
        return "\(file): \(reason)"
    }

    public var errorDescription: String? { description }
}
