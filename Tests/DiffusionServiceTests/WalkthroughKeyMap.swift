import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

/// key_map.json (Tests/Fixtures/Walkthrough/generate.py): per component, each diffusers tensor name
/// with its name and shape in the original layout, as diffusers' single-file conversion reads them.
struct WalkthroughKeyMap {
    let components: [String: [String: (name: String, shape: [Int])]]

    init(contentsOf url: URL) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [String: [Any]]])
        components = try json.mapValues { entries in
            try entries.mapValues { entry in
                (name: try #require(entry.first as? String), shape: try #require(entry.last as? [Int]))
            }
        }
    }

    /// The tensors of the diffusers file `url` under their original names and shapes.
    func renamed(_ component: String, _ url: URL) throws -> [(name: String, tensor: Tensor)] {
        let map = try #require(components[component])
        let file = try SafeTensorsFile(contentsOf: url)
        try #require(Set(file.names) == Set(map.keys), "\(url.path) and key_map.json's \(component) name different tensors")
        return try file.names.map { name in
            let original = try #require(map[name])
            return (name: original.name, tensor: try file.tensor(named: name).reshaped(original.shape))
        }
    }
}
