import ArgumentParser
import Foundation

/// The package's folder, for the files the benchmarks read from it.
enum PackageFolder {
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// A fresh path in the temporary directory, for folders the benchmarks write and delete.
func newTemporaryFolder() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-bench-\(UUID().uuidString)")
}

/// Where the benchmarks' random models are described: `<kind>/<name>.json` (the model's
/// config.json) and `<kind>/<name>.weights.json` (each weight's name and shape, written by
/// `reference_unet.py --write-shapes` and `reference_generate.py --write-shapes`), in Benchmarks/.
struct ModelManifests: ParsableArguments {
    @Option(help: "The folder of the models' configs and weight manifests (<kind>/<name>.json, <kind>/<name>.weights.json).")
    var configs = PackageFolder.url.appendingPathComponent("Benchmarks").path

    var url: URL { URL(fileURLWithPath: configs, isDirectory: true) }

    /// Model `<kind>/<name>` with random weights, written into `folder` (nil: a new temporary folder).
    func randomFolder(
        _ kind: String, _ name: String, at folder: URL? = nil, weightsFile: String = RandomModelFolder.diffusersWeights
    ) throws -> RandomModelFolder {
        let config = url.appendingPathComponent("\(kind)/\(name).json")
        let shapes = url.appendingPathComponent("\(kind)/\(name).weights.json")
        guard FileManager.default.fileExists(atPath: shapes.path) else {
            throw ValidationError("\(shapes.path) is missing: no \(kind) '\(name)' to benchmark")
        }
        return try RandomModelFolder(
            at: folder, config: FileManager.default.fileExists(atPath: config.path) ? config : nil, shapes: shapes,
            weightsFile: weightsFile)
    }
}
