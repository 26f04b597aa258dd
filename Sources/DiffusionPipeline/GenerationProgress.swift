import DiffusionCore
import Foundation

/// Where a generation stands, reported after every denoising step.
public struct GenerationProgress: Sendable, CustomStringConvertible {
    /// The step just finished (1-based) of the sample being denoised, and the steps per sample.
    public let step: Int
    public let steps: Int
    /// Images finished and requested.
    public let imagesDone: Int
    public let images: Int
    /// Seconds since the generation started.
    public let elapsed: Double
    /// Seconds still to go, from the average pace so far.
    public let remaining: Double
    /// The samples being denoised (indices into the request's samples).
    public let samples: Range<Int>
    /// With `GenerationParameters.previews`: each of `samples`' predicted image after this step.
    public let previews: [RGBImage]?

    /// The fraction of the whole generation done, 0...1.
    public var fraction: Double {
        Double(imagesDone * steps + step * samples.count) / Double(max(1, images * steps))
    }

    public var description: String {
        String(format: "step %d/%d, images %d/%d, %.1f s elapsed, about %.1f s left",
               step, steps, imagesDone, images, elapsed, remaining)
    }
}

/// What a progress callback answers: go on, or stop the generation (it then throws
/// `PipelineError.stopped` within one step, having produced nothing).
public enum ProgressAction: Sendable {
    case proceed, stop
}
