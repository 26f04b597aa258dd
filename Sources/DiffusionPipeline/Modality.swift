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
    /// Neural detectors load their weights on first use; this only checks the file is there.
    ///
    /// - Throws: `DetectionError.unavailable` for a modality whose detector is not implemented yet,
    ///   `.missingWeights` naming the file a neural detector needs when it is not installed.
    public func detector(modelsDirectory: URL) throws -> Detector? {
        switch self {
        case .canny: return CannyDetector(low: 100, high: 200)
        case .depth: return MidasDetector(weights: try weightsFile(MidasDetector.weightsFile, modelsDirectory: modelsDirectory))
        case .lines: return MLSDDetector(weights: try weightsFile(MLSDDetector.weightsFile, modelsDirectory: modelsDirectory))
        case .illusion: return nil
        case .pose, .seg, .scribble, .lineart, .normalMap:
            throw DetectionError.unavailable(modality: rawValue)
        }
    }

    /// `<models>/detectors/<modality>/<name>`, the published file, or the same tensors converted
    /// to safetensors under the same name with that extension.
    private func weightsFile(_ name: String, modelsDirectory: URL) throws -> URL {
        let published = weightsDirectory(modelsDirectory: modelsDirectory).appendingPathComponent(name)
        let converted = published.deletingPathExtension().appendingPathExtension("safetensors")
        guard let url = [published, converted].first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw DetectionError.missingWeights(modality: rawValue, file: name)
        }
        return url
    }

    /// Where this modality's neural detector finds its weights: `<models>/detectors/<modality>/`.
    public func weightsDirectory(modelsDirectory: URL) -> URL {
        modelsDirectory.appendingPathComponent("detectors", isDirectory: true).appendingPathComponent(rawValue, isDirectory: true)
    }
}
