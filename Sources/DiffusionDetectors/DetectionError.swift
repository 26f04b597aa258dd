import Foundation

/// Why a modality's map cannot be made. The pipeline answers these with status 400.
public enum DetectionError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The modality is known, but its detector (a neural network) is not implemented yet.
    case unavailable(modality: String)
    /// The modality's detector needs a weights file the models directory does not have.
    case missingWeights(modality: String, file: String)
    /// The weights file does not hold the network the detector expects.
    case invalidWeights(modality: String, file: String, tensor: String, problem: String)

    public var description: String {
        switch self {
        case .unavailable(let modality):
            return "modality detection is not available for '\(modality)': its detector (weights under "
                + "detectors/\(modality)/ in the models directory) is not implemented yet; "
                + "send the \(modality) map itself with disableModalityDetection true"
        case .missingWeights(let modality, let file):
            return "modality detection for '\(modality)' needs detectors/\(modality)/\(file) in the models "
                + "directory (Docs/DETECTORS.md says where to get it), "
                + "or send the \(modality) map itself with disableModalityDetection true"
        case .invalidWeights(let modality, let file, let tensor, let problem):
            return "detectors/\(modality)/\(file) is not the published \(modality) detector: its tensor '\(tensor)' \(problem)"
        }
    }

    public var errorDescription: String? { description }
}
