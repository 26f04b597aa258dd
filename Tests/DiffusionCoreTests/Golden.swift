import DiffusionCore
import DiffusionFormats
import Foundation

/// The PyTorch reference outputs of Tests/Goldens/core/generate.py.
enum Golden {
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Goldens/core/ops.safetensors")

    static let file: SafeTensorsFile = {
        do { return try SafeTensorsFile(contentsOf: url) } catch { fatalError("cannot read \(url.path): \(error)") }
    }()

    static func tensor(_ name: String) throws -> Tensor { try file.tensor(named: name) }

    /// An NCHW reference image tensor in the runtime's NHWC layout.
    static func image(_ name: String) throws -> Tensor { try tensor(name).nchwToNHWC() }
}
