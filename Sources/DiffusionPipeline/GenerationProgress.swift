import Foundation

/// Where a generation stands, reported after every denoising step.
public struct GenerationProgress: Sendable, CustomStringConvertible {
    /// The step just finished (1-based) of the batch being denoised, and the steps per batch.
    public let step: Int
    public let steps: Int
    /// Images finished and requested.
    public let imagesDone: Int
    public let images: Int
    /// Seconds since the generation started.
    public let elapsed: Double
    /// Seconds still to go, from the average pace so far.
    public let remaining: Double

    /// Samples in the batch being denoised.
    public let batch: Int

    public var description: String {
        String(format: "step %d/%d, images %d/%d, %.1f s elapsed, about %.1f s left",
               step, steps, imagesDone, images, elapsed, remaining)
    }
}
