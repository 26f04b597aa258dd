import DiffusionCore
import DiffusionFormats
import Foundation

/// A neural detector's weights file, opened from `<models>/detectors/<modality>/` as published
/// (a PyTorch `.pth`/`.pt` through the safe pickle reader, or safetensors), with the checks that
/// keep a wrong file from reaching a kernel: every error names the file and the tensor.
struct DetectorWeights {
    let file: any TensorFile
    let modality: String

    /// - Throws: `DetectionError.missingWeights` when the file is absent; the reader's error
    ///   (naming the file) when it is not a readable checkpoint.
    init(modality: String, file name: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DetectionError.missingWeights(modality: modality, file: name)
        }
        self.modality = modality
        file = url.pathExtension == "safetensors" ? try SafeTensorsFile(contentsOf: url) : try TorchCheckpoint(contentsOf: url)
    }

    /// The convolution `prefix.weight` (`[out, in, k, k]`) and `prefix.bias`, checked to take
    /// `inChannels` channels; `padding` keeps the size for an odd kernel (`k / 2`).
    func conv(_ prefix: String, inChannels: Int) throws -> Conv2D {
        let weight = try file.weights(named: prefix + ".weight"), bias = try file.tensor(named: prefix + ".bias")
        let shape = weight.shape
        guard shape.count == 4, shape[1] == inChannels, shape[2] == shape[3], shape[2] % 2 == 1, bias.shape == [shape[0]] else {
            throw invalid(prefix + ".weight", "has shape \(shape) and bias \(bias.shape): expected [out, \(inChannels), k, k], k odd, and [out]")
        }
        return Conv2D(weight: weight, bias: bias, padding: shape[2] / 2)
    }

    /// A tensor of exactly `shape`.
    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let tensor = try file.tensor(named: name)
        guard tensor.shape == shape else { throw invalid(name, "has shape \(tensor.shape), expected \(shape)") }
        return tensor
    }

    func invalid(_ tensor: String, _ problem: String) -> DetectionError {
        .invalidWeights(modality: modality, file: file.url.lastPathComponent, tensor: tensor, problem: problem)
    }
}
