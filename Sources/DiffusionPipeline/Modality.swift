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
    /// - Throws: `DetectionError.missingWeights` naming the file to install when its weights are not
    ///   in the models directory.
    public func detector(modelsDirectory: URL) throws -> Detector? {
        switch self {
        case .canny: return CannyDetector(low: 100, high: 200)
        case .illusion: return nil
        case .pose: return try OpenposeDetector(weightsDirectory: weightsDirectory(modelsDirectory: modelsDirectory))
        case .scribble: return try HEDDetector(weightsDirectory: weightsDirectory(modelsDirectory: modelsDirectory))
        case .depth: return MidasDetector(weights: try weightsFile(MidasDetector.weightsFile, modelsDirectory: modelsDirectory))
        case .lines: return MLSDDetector(weights: try weightsFile(MLSDDetector.weightsFile, modelsDirectory: modelsDirectory))
        case .normalMap: return NormalBaeDetector(weights: try weightsFile(NormalBaeDetector.weightsFile, modelsDirectory: modelsDirectory))
        case .lineart: return try LineartDetector(weightsDirectory: weightsDirectory(modelsDirectory: modelsDirectory))
        case .seg: return UniformerDetector(weights: try weightsFile(UniformerDetector.weightsFile, modelsDirectory: modelsDirectory))
        }
    }

    /// The published weights file its neural detector reads from `weightsDirectory`; nil when it
    /// needs none (canny, illusion).
    public var detectorWeightsFile: String? {
        switch self {
        case .pose: return OpenposeDetector.weightsFile
        case .scribble: return HEDDetector.weightsFile
        case .depth: return MidasDetector.weightsFile
        case .lines: return MLSDDetector.weightsFile
        case .normalMap: return NormalBaeDetector.weightsFile
        case .lineart: return LineartDetector.weightsFile
        case .seg: return UniformerDetector.weightsFile
        case .canny, .illusion: return nil
        }
    }

    /// Throws what `detector(modelsDirectory:)` would throw for a missing weights file, without
    /// loading any weights (request validation calls this).
    public func checkDetector(modelsDirectory: URL) throws {
        switch self {
        case .canny, .illusion: return
        case .pose, .scribble, .depth, .lines, .normalMap, .lineart, .seg:
            guard let file = detectorWeightsFile else { return }
            _ = try weightsFile(file, modelsDirectory: modelsDirectory)
        }
    }

    /// `<models>/detectors/<modality>/<name>`, or its safetensors conversion.
    private func weightsFile(_ name: String, modelsDirectory: URL) throws -> URL {
        try DetectorWeightsFile.locate(name, modality: rawValue, in: weightsDirectory(modelsDirectory: modelsDirectory))
    }

    /// Where this modality's neural detector finds its weights: `<models>/detectors/<modality>/`.
    public func weightsDirectory(modelsDirectory: URL) -> URL {
        modelsDirectory.appendingPathComponent("detectors", isDirectory: true).appendingPathComponent(rawValue, isDirectory: true)
    }
}
