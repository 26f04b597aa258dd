import Foundation

/// Where a neural detector's weights are: the one lookup `Modality` (which checks and builds the
/// detectors) and the detectors themselves share.
public enum DetectorWeightsFile {
    /// `directory/<name>`, the published file, or the same tensors converted to safetensors under
    /// the same name with that extension.
    ///
    /// - Throws: `DetectionError.missingWeights` naming the published file when neither is there.
    public static func locate(_ name: String, modality: String, in directory: URL) throws -> URL {
        let published = directory.appendingPathComponent(name)
        let converted = published.deletingPathExtension().appendingPathExtension("safetensors")
        guard let url = [published, converted].first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw DetectionError.missingWeights(modality: modality, file: name)
        }
        return url
    }
}
