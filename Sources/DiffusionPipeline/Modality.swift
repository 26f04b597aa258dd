import DiffusionDetectors
import Foundation

/// The control modalities (Docs/SPEC.md §2): the one table saying which families have a ControlNet for
/// each and which detector turns a control image into its map.
///
/// To add a detector: its type in DiffusionDetectors, and its case in `detector(modelsDirectory:)`.
public enum Modality: String, CaseIterable, Codable, Sendable {
    case canny, pose, depth, lines, seg, scribble, lineart
    case normalMap = "normal-map"
    case illusion

    /// The families a request may use this modality with.
    public var families: Set<ModelFamily> {
        switch self {
        case .canny, .pose, .depth, .seg, .scribble, .illusion: return [.sd15, .sdxl]
        case .lines, .lineart, .normalMap: return [.sd15]
        }
    }

    /// The detector that makes this modality's map, nil when the image is its own map (`illusion`).
    ///
    /// - Throws: `DetectionError.unavailable` for a modality whose detector is not implemented yet.
    public func detector(modelsDirectory: URL) throws -> Detector? {
        switch self {
        case .canny: return CannyDetector(low: 100, high: 200)
        case .illusion: return nil
        case .pose, .depth, .lines, .seg, .scribble, .lineart, .normalMap:
            throw DetectionError.unavailable(modality: rawValue)
        }
    }

    /// Where this modality's neural detector finds its weights: `<models>/detectors/<modality>/`.
    public func weightsDirectory(modelsDirectory: URL) -> URL {
        modelsDirectory.appendingPathComponent("detectors", isDirectory: true).appendingPathComponent(rawValue, isDirectory: true)
    }
}
