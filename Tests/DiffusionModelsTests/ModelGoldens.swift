import DiffusionCore
import DiffusionFormats
import Foundation
import DiffusionTestSupport
import Testing

/// The fixtures of Tests/Goldens/unet and Tests/Goldens/vae (made by their generate.py with the
/// pinned diffusers): tiny random models in diffusers' folder layout and their io.safetensors.
enum UNetGoldens {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Goldens")

    static func folder(_ area: String, _ name: String) -> URL {
        root.appendingPathComponent(area).appendingPathComponent(name)
    }

    /// The reference inputs and outputs of one fixture, NCHW images read as NHWC.
    struct IO {
        let file: SafeTensorsFile

        init(_ folder: URL) throws {
            file = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("io.safetensors"))
        }

        func tensor(_ name: String) throws -> Tensor { try file.tensor(named: name) }
        func image(_ name: String) throws -> Tensor { try tensor(name).nchwToNHWC() }
        func contains(_ name: String) -> Bool { file.info(name) != nil }
    }

    /// Whole-model outputs agree to 1e-4 of their scale: both sides run float32 with identical
    /// (F16-rounded) weights, so only summation order differs, ~1e-6 relative per reduction,
    /// compounded over a few dozen layers. A wrong wiring, scale or epsilon is orders larger.
    static let tolerance: Float = 1e-4

    static func expectClose(
        _ actual: Tensor, _ expected: Tensor, _ what: String, tolerance: Float = tolerance,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        DiffusionTestSupport.expectClose(actual, expected, tolerance: tolerance, what, sourceLocation: sourceLocation)
    }

    /// A copy of `folder` in a fresh temporary folder, for tests that alter a fixture.
    static func temporaryCopy(of folder: URL) throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("UNetGoldens-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: folder, to: copy)
        return copy
    }
}
