import DiffusionCore
import DiffusionFormats
import Foundation
import Testing

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

/// The largest absolute difference, divided by the reference's largest magnitude (at least 1),
/// so one bound serves outputs of any scale.
func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
    precondition(actual.shape == expected.shape, "shapes \(actual.shape) and \(expected.shape) differ")
    var worst: Float = 0, scale: Float = 1
    actual.withUnsafeBufferPointer { a in
        expected.withUnsafeBufferPointer { e in
            for i in 0..<a.count {
                // Not `max`: it keeps `worst` when the difference is NaN, so NaN outputs would pass.
                let difference = abs(a[i] - e[i])
                if !(difference <= worst) { worst = difference }
                scale = max(scale, abs(e[i]))
            }
        }
    }
    return worst / scale
}

/// Expects `actual` to match `expected` in shape and within `tolerance` relative error.
func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = relativeError(actual, expected)
    #expect(error <= tolerance, "\(what): relative error \(error) above \(tolerance)", sourceLocation: sourceLocation)
}
