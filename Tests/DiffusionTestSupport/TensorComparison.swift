import DiffusionCore
import Testing

/// The largest absolute difference, divided by the reference's largest magnitude (at least 1),
/// so one bound serves outputs of any scale.
public func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
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
public func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = relativeError(actual, expected)
    #expect(error <= tolerance, "\(what): relative error \(error) above \(tolerance)", sourceLocation: sourceLocation)
}
