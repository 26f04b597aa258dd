import DiffusionCore
import Foundation

extension DetectorWeights {
    /// The published file `name` of `directory`, `<models>/detectors/<modality>/`, or its
    /// safetensors conversion (`DetectorWeightsFile.locate`).
    ///
    /// - Throws: `DetectionError.missingWeights` when the file is absent, `.invalidWeights` when it
    ///   is not a readable checkpoint.
    convenience init(modality: String, file name: String, in directory: URL) throws {
        try self.init(modality: modality, url: DetectorWeightsFile.locate(name, modality: modality, in: directory))
    }

    /// The convolution `prefix.weight` (`[out, in, k, k]`) and `prefix.bias`, checked to take
    /// `inChannels` channels; `padding` keeps the size for an odd kernel (`k / 2`).
    func conv(_ prefix: String, inChannels: Int) throws -> Conv2D {
        let shape = try self.shape(prefix + ".weight")
        guard shape.count == 4, shape[1] == inChannels, shape[2] == shape[3], shape[2] % 2 == 1 else {
            throw invalid(prefix + ".weight", "has shape \(shape): expected [out, \(inChannels), k, k], k odd")
        }
        let weight = try tensor(prefix + ".weight"), bias = try tensor(prefix + ".bias", shape: [shape[0]])
        return Conv2D(weight: weight, bias: bias, padding: shape[2] / 2)
    }

    /// The error naming `tensor` of this file and what is wrong with it.
    func invalid(_ tensor: String, _ problem: String) -> DetectionError {
        fail("its tensor '\(tensor)' \(problem)")
    }
}
