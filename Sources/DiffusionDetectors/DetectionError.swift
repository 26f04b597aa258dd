import Foundation

/// Why a modality's map cannot be made. The pipeline answers these with status 400.
public enum DetectionError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The modality's detector needs a weights file the models directory does not have.
    case missingWeights(modality: String, file: String)
    /// The modality's weights file is there but is not the published network (a key or shape
    /// differs, or it cannot be read).
    case invalidWeights(modality: String, file: String, reason: String)
    /// The image cannot go through the modality's network as it is (its size).
    case invalidImage(modality: String, reason: String)

    public var description: String {
        switch self {
        case .missingWeights(let modality, let file):
            return "modality detection for '\(modality)' needs detectors/\(modality)/\(file) in the models "
                + "directory (Docs/DETECTORS.md says where to get it), "
                + "or send the \(modality) map itself with disableModalityDetection true"
        case .invalidWeights(let modality, let file, let reason):
            return "detectors/\(modality)/\(file) in the models directory is not the published \(modality) "
                + "detector (Docs/DETECTORS.md): \(reason)"
        case .invalidImage(let modality, let reason):
            return "the control image cannot go through the \(modality) detector: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
