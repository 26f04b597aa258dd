import DiffusionCore
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

    /// The tensors of the weights file at `url` under the network's keys, its wrapping removed as
    /// the detectors remove it (a training checkpoint's `model`, mmcv's `state_dict`, `module.`),
    /// sorted by key and read as float32: what a conversion to safetensors holds.
    ///
    /// - Throws: `DetectionError.invalidWeights` naming the file when it cannot be read.
    public static func tensors(at url: URL, modality: String) throws -> [(name: String, tensor: Tensor)] {
        let weights = try DetectorWeights(modality: modality, url: url)
        return try weights.keys.map { ($0, try weights.tensor($0)) }
    }
}
