import Foundation

/// Which detector serves each modality (SPEC §2, `disableModalityDetection`).
///
/// - `canny`: `CannyDetector` with thresholds 100 and 200, as controlnet_aux's default.
/// - `illusion`: no detector; the control image is the map.
/// - `pose`, `depth`, `lines`, `lineart`, `scribble`, `seg`, `normal-map`: neural detectors whose
///   weights live in `<models>/detectors/<modality>/`. None is implemented yet, so asking for
///   one throws `DetectionError.unavailable`.
public enum DetectorRegistry {
    /// Every modality name the runtime knows, in SPEC order.
    public static let modalities = [
        "canny", "pose", "depth", "lines", "seg", "scribble", "lineart", "normal-map", "illusion",
    ]

    /// The modalities whose detector is a neural network read from the models directory.
    public static let neuralModalities: Set<String> = [
        "pose", "depth", "lines", "lineart", "scribble", "seg", "normal-map",
    ]

    /// Where the weights of `modality`'s neural detector are looked for.
    public static func weightsDirectory(for modality: String, modelsDirectory: URL) -> URL {
        modelsDirectory.appendingPathComponent("detectors", isDirectory: true)
            .appendingPathComponent(modality, isDirectory: true)
    }

    /// The detector for `modality`, or nil when the image is used as is (`illusion`).
    ///
    /// - Throws: `DetectionError.unavailable` for a modality whose detector is not implemented,
    ///   `DetectionError.unknownModality` for a name that is no modality.
    public static func makeDetector(modality: String, modelsDirectory: URL) throws -> Detector? {
        switch modality {
        case "canny":
            return CannyDetector(low: 100, high: 200)
        case "illusion":
            return nil
        case _ where neuralModalities.contains(modality):
            throw DetectionError.unavailable(modality: modality)
        default:
            throw DetectionError.unknownModality(modality)
        }
    }
}
