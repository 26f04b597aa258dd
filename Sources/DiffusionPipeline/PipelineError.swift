import Foundation

/// Why the typed pipeline could not run, or stopped.
public enum PipelineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter the pipeline cannot run with: its name and the rule it breaks.
    case invalidParameter(String, String)
    /// The progress callback asked to stop; nothing was produced.
    case stopped
    /// A model produced NaN or infinity: which stage, and at which step (1-based) when in the loop.
    case nonFinite(stage: String, step: Int?)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let rule): return "\(name) must be \(rule)"
        case .stopped: return "the generation was stopped"
        case .nonFinite(let stage, let step):
            return "\(stage) output not finite" + (step.map { " at step \($0)" } ?? "")
                + ": the model's weights or configuration produce NaN or infinity"
        }
    }
}
