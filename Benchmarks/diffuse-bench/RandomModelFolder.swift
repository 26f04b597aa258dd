import DiffusionCore
import DiffusionFormats
import Foundation

/// A diffusers or transformers model folder (config.json + a safetensors file) whose weights are
/// random values in the shapes a `{"key": [shape], ...}` manifest lists: the F16 checkpoint a real
/// model would be, without downloading one.
struct RandomModelFolder {
    let url: URL

    static let diffusersWeights = "diffusion_pytorch_model.safetensors"

    /// Writes `config` (when there is one) as config.json and the random weights as `weightsFile`
    /// into `url`, created with its parents; nil writes to a new temporary folder.
    init(at url: URL? = nil, config: URL?, shapes: URL, weightsFile: String = diffusersWeights) throws {
        let manifest = try JSONDecoder().decode([String: [Int]].self, from: Data(contentsOf: shapes))
        self.url = url ?? newTemporaryFolder()
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        if let config {
            try FileManager.default.copyItem(at: config, to: self.url.appendingPathComponent("config.json"))
        }
        let tensors = manifest.sorted { $0.key < $1.key }.enumerated().map { index, entry in
            (name: entry.key, tensor: RandomModelFolder.weight(entry.key, shape: entry.value, seed: index))
        }
        try SafeTensors.write(tensors, dtype: .f16, to: self.url.appendingPathComponent(weightsFile))
    }

    /// Values at the scale of a trained layer, so activations stay finite and never denormal:
    /// matrices uniform in +-1/sqrt(fan-in), norm scales 1, biases small.
    private static func weight(_ name: String, shape: [Int], seed: Int) -> Tensor {
        if shape.count == 1 {
            return name.contains("norm") && name.hasSuffix("weight")
                ? Tensor(shape: shape, repeating: 1) : .pseudoRandom(shape, seed: seed, scale: 0.01)
        }
        let fanIn = shape.dropFirst().reduce(1, *)
        return .pseudoRandom(shape, seed: seed, scale: 1 / Float(fanIn).squareRoot())
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

extension Tensor {
    /// Uniform values in +-`scale` from a fixed-seed xorshift generator (fast, reproducible).
    static func pseudoRandom(_ shape: [Int], seed: Int, scale: Float = 1) -> Tensor {
        var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        var tensor = Tensor(uninitializedShape: shape)
        tensor.withUnsafeMutableBufferPointer { values in
            for i in values.indices {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                values[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
            }
        }
        return tensor
    }
}
