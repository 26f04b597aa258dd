import DiffusionCore
import DiffusionFormats
import Foundation

/// The seeded weights of Tests/Goldens/detectors/common.py, bit for bit: element i of tensor
/// `name` is `offset + scale * u` with `u = (splitmix64(fnv1a64(name) + i * 0x9E3779B97F4A7C15) >> 40) / 2^23 - 1`.
enum SeededWeights {
    struct Entry: Decodable {
        let shape: [Int]
        let offset: Float
        let scale: Float
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    static func splitmix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func tensor(_ name: String, _ entry: Entry) -> Tensor {
        let seed = fnv1a64(name), count = entry.shape.reduce(1, *)
        return Tensor(shape: entry.shape, values: (0..<count).map { i in
            let u = Float(splitmix64(seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 40) / 8_388_608 - 1
            return entry.offset + entry.scale * u
        })
    }

    /// Writes the tensors of `manifest` (a `<name>_weights.json` of the goldens) to a
    /// safetensors file in a fresh temporary folder and returns its URL.
    static func write(manifest: String, as fileName: String) throws -> URL {
        let data = try Data(contentsOf: DetectorGoldens.folder.appendingPathComponent(manifest))
        let entries = try JSONDecoder().decode([String: Entry].self, from: data)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seeded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(fileName)
        try SafeTensors.write(entries.map { (name: $0.key, tensor: tensor($0.key, $0.value)) }, to: url)
        return url
    }
}
